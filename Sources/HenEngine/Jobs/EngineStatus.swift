import Foundation
import HenDrivers

/// What the engine is doing and will do next: for `hen-backup status`, the watchdog and the API.
public struct EngineStatus: Sendable, Hashable, Codable {
    public var now: Date
    /// Queued jobs in the order they would start.
    public var queued: [JobRecord]
    public var running: [RunningJob]
    /// The next scheduled run of each backup, prune and check, soonest first.
    public var nextRuns: [PlannedRun]
    public var maxConcurrentJobs: Int

    public struct RunningJob: Sendable, Hashable, Codable {
        public var record: JobRecord
        /// Seconds since the driver last reported anything (since the start when it never did).
        public var secondsSinceLastReport: Double

        public init(record: JobRecord, secondsSinceLastReport: Double) {
            self.record = record
            self.secondsSinceLastReport = secondsSinceLastReport
        }

        private enum CodingKeys: String, CodingKey {
            case record
            case secondsSinceLastReport = "seconds_since_last_report"
        }
    }

    public init(now: Date, queued: [JobRecord], running: [RunningJob], nextRuns: [PlannedRun], maxConcurrentJobs: Int) {
        self.now = now
        self.queued = queued
        self.running = running
        self.nextRuns = nextRuns
        self.maxConcurrentJobs = maxConcurrentJobs
    }

    private enum CodingKeys: String, CodingKey {
        case now, queued, running
        case nextRuns = "next_runs"
        case maxConcurrentJobs = "max_concurrent_jobs"
    }
}

/// When a scheduled operation runs next, and why then.
public struct PlannedRun: Sendable, Hashable, Codable {
    /// `backup`, `prune` or `check`.
    public var operation: String
    /// The backup or repository.
    public var target: String
    public var date: Date
    /// `last run 2h ago, every 1h → now`.
    public var reason: String
    /// The schedule that decides it (`every 1h`, `cron "0 30 2 * * *"`).
    public var schedule: String
    public var lastRun: Date?

    public init(operation: String, target: String, date: Date, reason: String, schedule: String, lastRun: Date?) {
        self.operation = operation
        self.target = target
        self.date = date
        self.reason = reason
        self.schedule = schedule
        self.lastRun = lastRun
    }

    private enum CodingKeys: String, CodingKey {
        case operation, target, date, reason, schedule
        case lastRun = "last_run"
    }
}
