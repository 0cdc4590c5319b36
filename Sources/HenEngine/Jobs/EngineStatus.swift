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
    /// The daemon's file watchers (empty outside the daemon, and for backups without `watch:`).
    public var watchers: [WatchStatus]

    public struct RunningJob: Sendable, Hashable, Codable {
        public var record: JobRecord
        /// Seconds since the driver last reported anything (since the start when it never did).
        public var secondsSinceLastReport: Double

        public init(record: JobRecord, secondsSinceLastReport: Double) {
            self.record = record
            self.secondsSinceLastReport = secondsSinceLastReport
        }    }

    public init(now: Date, queued: [JobRecord], running: [RunningJob], nextRuns: [PlannedRun], maxConcurrentJobs: Int, watchers: [WatchStatus] = []) {
        self.watchers = watchers
        self.now = now
        self.queued = queued
        self.running = running
        self.nextRuns = nextRuns
        self.maxConcurrentJobs = maxConcurrentJobs
    }}
