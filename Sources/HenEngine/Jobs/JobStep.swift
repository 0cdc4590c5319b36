import Foundation

/// One step of a job: a hook, or one driver operation on one repository.
public struct JobStep: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case running, succeeded, warning, failed, cancelled, skipped
    }
    /// Unique within the job (`backup:local-disk`, `hook:before:0`); a step reported again with the same
    /// id replaces the earlier one.
    public var id: String
    /// For people: `backup to local-disk`.
    public var name: String
    public var repository: String?
    public var state: State
    public var startedAt: Date?
    public var endedAt: Date?
    /// What happened, in one sentence: the error of a failed step, a result summary of a good one.
    public var message: String?

    public init(id: String, name: String, repository: String? = nil, state: State, startedAt: Date? = nil, endedAt: Date? = nil, message: String? = nil) {
        self.id = id
        self.name = name
        self.repository = repository
        self.state = state
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.message = message
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, repository, state, message
        case startedAt = "started_at"
        case endedAt = "ended_at"
    }
}
