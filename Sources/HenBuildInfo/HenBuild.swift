/// What the build knows about itself. Its own module, so that a new commit recompiles this file alone.
public enum HenBuild {
    /// `git describe` at build time (`0.2.0`, `0.2.0-3-g1b87ebb-dirty`), or `HEN_VERSION` when the build
    /// was given one (a container build without `.git`). Written by `Plugins/HenVersionPlugin`.
    public static var version: String { describedVersion }
}
