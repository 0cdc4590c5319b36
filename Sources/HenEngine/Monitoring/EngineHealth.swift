/// What ``Engine/health(strict:)`` found: healthy when there is no problem.
public struct EngineHealth: Sendable, Hashable, Codable {
    /// One reason the daemon is not (fully) healthy.
    public struct Problem: Sendable, Hashable, Codable {
        /// `job_store`, `engine`, `backup_overdue`, `repository_failed`, `backup_alarm`, `drill_failed`, `drill_overdue`.
        public var kind: String
        /// The backup, repository or store path it is about.
        public var subject: String
        public var message: String

        public init(kind: String, subject: String, message: String) {
            self.kind = kind
            self.subject = subject
            self.message = message
        }
    }

    public var acceptingJobs: Bool
    public var queued: Int
    public var running: Int
    public var problems: [Problem] = []

    public init(acceptingJobs: Bool, queued: Int, running: Int, problems: [Problem] = []) {
        self.acceptingJobs = acceptingJobs
        self.queued = queued
        self.running = running
        self.problems = problems
    }

    public var isHealthy: Bool { problems.isEmpty }
    /// True when the engine itself or its store fails (not merely an overdue backup).
    public var isDown: Bool { problems.contains { $0.kind == "job_store" || $0.kind == "engine" } }
}
