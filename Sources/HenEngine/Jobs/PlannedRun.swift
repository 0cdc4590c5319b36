import Foundation

/// When a scheduled operation runs next, and why then.
public struct PlannedRun: Sendable, Hashable, Codable {
    /// `backup`, `prune` or `check`.
    public var operation: JobOperation.Kind
    /// The backup or repository.
    public var target: String
    public var date: Date
    /// `last run 2h ago, every 1h → now`.
    public var reason: String
    /// The schedule that decides it (`every 1h`, `cron "0 30 2 * * *"`).
    public var schedule: String
    public var lastRun: Date?

    public init(operation: JobOperation.Kind, target: String, date: Date, reason: String, schedule: String, lastRun: Date?) {
        self.operation = operation
        self.target = target
        self.date = date
        self.reason = reason
        self.schedule = schedule
        self.lastRun = lastRun
    }
}
