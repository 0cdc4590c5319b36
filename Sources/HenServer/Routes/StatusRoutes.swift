import Foundation
import HenEngine
import Hummingbird

/// `GET /status`: who this daemon is (hostname, mode, version) and what it does: the queue, running jobs with
/// their progress, the next scheduled runs, the file watchers, and the problems of a strict health check.
public struct StatusRoutes: Sendable {
    let engine: Engine
    let startedAt: Date

    public init(engine: Engine, startedAt: Date = Date()) {
        self.engine = engine
        self.startedAt = startedAt
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.get("status") { _, _ in
            let configuration = engine.configuration
            let status = await engine.status()
            // What a strict health check reports (overdue backups, failed repositories): the UI marks them.
            let problems = await engine.health(strict: true).problems
            return try RouteSupport.json(Body(
                hostname: configuration.hostname, mode: configuration.mode.rawValue, version: HenVersion.current,
                startedAt: startedAt, status: status, problems: problems
            ))
        }
    }

    struct Body: Encodable {
        var hostname: String
        var mode: String
        var version: String
        var startedAt: Date
        var status: EngineStatus
        var problems: [EngineHealth.Problem]

        enum CodingKeys: String, CodingKey {
            case hostname, mode, version, now, queued, running, watchers, problems
            case startedAt = "started_at"
            case nextRuns = "next_runs"
            case maxConcurrentJobs = "max_concurrent_jobs"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hostname, forKey: .hostname)
            try container.encode(mode, forKey: .mode)
            try container.encode(version, forKey: .version)
            try container.encode(startedAt, forKey: .startedAt)
            try container.encode(status.now, forKey: .now)
            try container.encode(status.queued.map(JobSummary.init), forKey: .queued)
            // Running jobs without their logs, like the queue: `GET /jobs/{id}` has the log.
            try container.encode(status.running.map { job in
                var job = job
                job.record.log = []
                return job
            }, forKey: .running)
            try container.encode(status.nextRuns, forKey: .nextRuns)
            try container.encode(status.maxConcurrentJobs, forKey: .maxConcurrentJobs)
            try container.encode(status.watchers, forKey: .watchers)
            try container.encode(problems, forKey: .problems)
        }
    }
}

/// A job record without its log (lists and overviews; `GET /jobs/{id}` has the log).
struct JobSummary: Encodable {
    var record: JobRecord
    init(_ record: JobRecord) {
        var record = record
        record.log = []
        self.record = record
    }
    func encode(to encoder: any Encoder) throws { try record.encode(to: encoder) }
}
