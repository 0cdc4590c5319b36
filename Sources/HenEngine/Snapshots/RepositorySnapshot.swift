import HenDrivers

/// One snapshot and the repository it is in (a snapshot id names a snapshot only within its repository).
public struct RepositorySnapshot: Sendable, Hashable, Codable {
    public var repository: String
    public var snapshot: Snapshot

    public init(repository: String, snapshot: Snapshot) {
        self.repository = repository
        self.snapshot = snapshot
    }
}
