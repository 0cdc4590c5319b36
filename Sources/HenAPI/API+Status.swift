import Foundation
import HenEngine

extension API {
    /// `GET /status`, and `hen-backup status --json` with or without a daemon: who answers (hostname, mode,
    /// version, since when) and what the engine does.
    public struct Status: Codable, Sendable {
        public var hostname: String
        /// `normal` or `recovery`.
        public var mode: String
        public var version: String
        /// When the daemon's API started (the in-process CLI: when it opened the engine).
        public var startedAt: Date
        public var now: Date
        /// In the order they would start, without their logs.
        public var queued: [JobRecord]
        /// With their progress, without their logs (`GET /jobs/{id}` has them).
        public var running: [EngineStatus.RunningJob]
        public var nextRuns: [PlannedRun]
        public var maxConcurrentJobs: Int
        public var watchers: [WatchStatus]
        /// What a strict health check reports (overdue backups, failed repositories, drills, alarms).
        public var problems: [EngineHealth.Problem]

        public init(configuration: Configuration, startedAt: Date, status: EngineStatus, problems: [EngineHealth.Problem]) {
            hostname = configuration.hostname
            mode = configuration.mode.rawValue
            version = HenVersion.current
            self.startedAt = startedAt
            now = status.now
            queued = status.queued.map(\.summary)
            running = status.running.map { EngineStatus.RunningJob(record: $0.record.summary, secondsSinceLastReport: $0.secondsSinceLastReport) }
            nextRuns = status.nextRuns
            maxConcurrentJobs = status.maxConcurrentJobs
            watchers = status.watchers
            self.problems = problems
        }

        /// The engine's part of it, for printing.
        public var engineStatus: EngineStatus {
            EngineStatus(now: now, queued: queued, running: running, nextRuns: nextRuns, maxConcurrentJobs: maxConcurrentJobs, watchers: watchers)
        }
    }

    /// `GET /health`: `ok` or `degraded`; a degraded answer also carries the error shape (`error` is null
    /// when ok), so that clients read it like any other error.
    public struct Health: Codable, Sendable {
        public var status: String
        public var queued: Int
        public var running: Int
        public var problems: [EngineHealth.Problem]
        public var error: Error.Body?

        public init(_ health: EngineHealth) {
            queued = health.queued
            running = health.running
            problems = health.problems
            if health.isHealthy {
                status = "ok"
                error = nil
            } else {
                status = "degraded"
                error = Error.Body(code: "degraded", message: health.problems.map(\.message).joined(separator: " "))
            }
        }
    }

    /// `GET /session`, `POST /login`: whether auth is on, and who the request is.
    public struct Session: Codable, Sendable {
        public var authRequired: Bool
        /// `user:<name>` or `token:<name>`; null without auth or before a login.
        public var identity: String?

        public init(authRequired: Bool, identity: String?) {
            self.authRequired = authRequired
            self.identity = identity
        }
    }

    /// `POST /login`.
    public struct Login: Codable, Sendable {
        public var name: String
        public var password: String

        public init(name: String, password: String) {
            self.name = name
            self.password = password
        }
    }
}
