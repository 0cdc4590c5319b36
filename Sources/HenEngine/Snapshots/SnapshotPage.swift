/// One page of this host's snapshots, newest first; `nextCursor` asks for the next page (nil: the last one).
public struct SnapshotPage: Sendable, Hashable {
    public var items: [RepositorySnapshot]
    public var nextCursor: String?
    /// Repositories left out of a list of several because they could not be read (unreachable, wrong
    /// password), each with the reason: the others are still listed.
    public var unreadable: [UnreadableRepository]

    public init(items: [RepositorySnapshot], nextCursor: String?, unreadable: [UnreadableRepository] = []) {
        self.items = items
        self.nextCursor = nextCursor
        self.unreadable = unreadable
    }
}

/// A repository that could not be read, and why in one sentence.
public struct UnreadableRepository: Sendable, Hashable, Codable {
    public var repository: String
    public var message: String

    public init(repository: String, message: String) {
        self.repository = repository
        self.message = message
    }
}
