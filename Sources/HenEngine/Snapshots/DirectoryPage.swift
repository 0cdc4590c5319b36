import HenDrivers

/// One page of one directory level of a snapshot, sorted by name (byte order).
public struct DirectoryPage: Sendable, Hashable {
    public var repository: String
    /// The snapshot's full id.
    public var snapshotID: String
    /// The directory listed, normalized (`/` or `/a/b`).
    public var path: String
    public var items: [Node]
    /// Asks for the next page; nil on the last one.
    public var nextCursor: String?

    public init(repository: String, snapshotID: String, path: String, items: [Node], nextCursor: String?) {
        self.repository = repository
        self.snapshotID = snapshotID
        self.path = path
        self.items = items
        self.nextCursor = nextCursor
    }
}
