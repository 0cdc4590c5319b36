/// One page of this host's snapshots, newest first; `nextCursor` asks for the next page (nil: the last one).
public struct SnapshotPage: Sendable, Hashable {
    public var items: [RepositorySnapshot]
    public var nextCursor: String?

    public init(items: [RepositorySnapshot], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
