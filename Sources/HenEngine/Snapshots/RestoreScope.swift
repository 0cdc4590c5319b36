/// Where an engine's restores may write. A daemon's engine serves requests that arrive over HTTP, which it
/// does not trust: its restores stay below `restore.allowed_targets`. The in-process CLI is run by the
/// machine's administrator, who may restore anywhere they can write.
public enum RestoreScope: Sendable, Hashable {
    /// Only below `restore.allowed_targets`, checked when the restore is asked for and again when it starts.
    case allowedTargets
    /// Any absolute target (the in-process CLI).
    case anywhere
}
