/// Which job records to list. Every set field must match.
public struct JobFilter: Sendable, Hashable {
    public var states: [JobState]
    /// The backup a job belongs to (its target for backup and prune jobs).
    public var backup: String?
    /// The backup or repository a job works on.
    public var target: String?
    /// `backup`, `prune`, `check`, …
    public var operation: String?
    /// At most this many, newest first.
    public var limit: Int

    public init(states: [JobState] = [], backup: String? = nil, target: String? = nil, operation: String? = nil, limit: Int = 50) {
        self.states = states
        self.backup = backup
        self.target = target
        self.operation = operation
        self.limit = limit
    }
}
