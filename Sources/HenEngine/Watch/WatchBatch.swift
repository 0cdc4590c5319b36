/// The changes one read of a watcher's inotify queue produced, after excludes and suppressions.
///
/// Bounded: it keeps the first few distinct paths and counts the rest, so a large tree moved in at once
/// does not become a large array.
public struct WatchBatch: Sendable, Hashable {
    /// The first changed paths (absolute), distinct, in the order seen.
    public var paths: [String]
    /// Change events counted (a file created and then closed after writing counts once when both events
    /// come together; the same file changed again later counts again).
    public var count: Int
    /// The kernel's event queue overflowed (`IN_Q_OVERFLOW`): changes were lost, so something changed.
    public var overflow: Bool

    public init(paths: [String] = [], count: Int = 0, overflow: Bool = false) {
        self.paths = paths
        self.count = count
        self.overflow = overflow
    }

    /// The text recorded in place of paths for an overflow.
    public static let overflowPath = "(inotify queue overflow: changed paths unknown)"

    var isEmpty: Bool { count == 0 && !overflow }

    /// The last path added: the same path again at once is the same change (created, then closed).
    private var previous: String?

    mutating func add(_ path: String, limit: Int) {
        if previous == path { return }
        previous = path
        count += 1
        if paths.count < limit, !paths.contains(path) { paths.append(path) }
    }
}
