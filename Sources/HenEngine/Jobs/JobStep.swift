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
    /// A hook step's details: exit code or HTTP status, attempts, and its (bounded, redacted) output.
    public var hook: HookDetail?

    public struct HookDetail: Sendable, Hashable, Codable {
        public var phase: String
        public var policy: String
        public var exitCode: Int32?
        public var signal: Int32?
        public var httpStatus: Int?
        public var attempts: Int
        public var timedOut: Bool
        public var output: String
        public var outputTruncated: Bool

        public init(phase: String, policy: String, exitCode: Int32?, signal: Int32?, httpStatus: Int?, attempts: Int, timedOut: Bool, output: String, outputTruncated: Bool) {
            self.phase = phase
            self.policy = policy
            self.exitCode = exitCode
            self.signal = signal
            self.httpStatus = httpStatus
            self.attempts = attempts
            self.timedOut = timedOut
            self.output = output
            self.outputTruncated = outputTruncated
        }
    }

    public init(id: String, name: String, repository: String? = nil, state: State, startedAt: Date? = nil, endedAt: Date? = nil, message: String? = nil) {
        self.id = id
        self.name = name
        self.repository = repository
        self.state = state
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.message = message
    }
}
