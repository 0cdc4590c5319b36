import HenDrivers

/// The totals of a diff of two snapshots. `added`, `removed` and `modified` count files and other
/// entries that are not directories; the changes listed include directories added or removed.
public struct SnapshotDiffCounts: Sendable, Hashable {
    /// How the diff was made: by the driver (`restic diff`), or by comparing the two indexed trees.
    public enum Method: String, Sendable, Hashable, Codable {
        case driver, trees
    }

    /// The index's key for the diff's changes.
    var key: Int64
    public var method: Method
    public var added: Int
    public var removed: Int
    public var modified: Int
    /// restic: the data added and removed in the repository; trees: the sizes of the files added and removed.
    public var bytesAdded: UInt64?
    public var bytesRemoved: UInt64?
}

/// One page of the paths that changed from one snapshot (`against`) to another, sorted by path.
public struct SnapshotDiffPage: Sendable, Hashable {
    public var repository: String
    /// The newer snapshot.
    public var snapshot: RepositorySnapshot
    /// The snapshot it is compared with.
    public var against: RepositorySnapshot
    public var counts: SnapshotDiffCounts
    public var items: [SnapshotChange]
    /// Asks for the next page; nil on the last one.
    public var nextCursor: String?
}

/// Where a diff page ended: the last path.
struct DiffCursor: Codable, Hashable {
    var after: String
}
