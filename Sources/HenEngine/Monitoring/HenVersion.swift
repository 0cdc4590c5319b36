import HenBuildInfo

/// The version this build reports (`hen-backup --version`, `hen_daemon_info`, the API): `git describe` at
/// build time (see `HenBuild.version`).
public enum HenVersion {
    public static var current: String { HenBuild.version }
}
