import Foundation
import HenEngine
import Hummingbird

/// `/backups`: the configured backups (secrets redacted) with their last jobs, latest snapshots and next runs,
/// and `POST /backups/{name}/backup|prune` to queue a job now.
public struct BackupRoutes: Sendable {
    let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.get("backups") { request, _ in
            let configuration = engine.configuration
            let page = try RouteSupport.page(configuration.backups, limit: try RouteSupport.limit(request.queryValue("limit")), cursor: request.query("cursor"))
            let runs = try await engine.plannedRuns()
            let alarms = try await engine.alarms()
            var items: [Overview] = []
            for backup in page.items {
                let last = try await engine.jobs(JobFilter(backup: backup.name, operation: .backup, limit: 1)).first
                let drill = try await engine.jobs(JobFilter(backup: backup.name, operation: .drill, limit: 1)).first
                items.append(Overview(
                    name: backup.name, paths: backup.paths, repositories: backup.repositories,
                    schedules: backup.schedules.map(\.description), watched: backup.watch != nil, priority: backup.priority.description,
                    lastBackup: last.map(JobSummary.init),
                    nextRun: runs.first { $0.operation == .backup && $0.target == backup.name },
                    lastDrill: drill.map(JobSummary.init),
                    alarm: alarms.first { $0.backup == backup.name }
                ))
            }
            return try RouteSupport.json(Page(items: items, nextCursor: page.next))
        }
        api.get("backups/{name}") { _, context in try await detail(try context.parameters.require("name")) }
        api.post("backups/{name}/backup") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: JobBody.self) { body in
                .backup(backup: name, repositories: body?.repositories)
            }
        }
        api.post("backups/{name}/prune") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: JobBody.self) { body in
                if body?.repositories != nil {
                    throw APIError.invalid("A prune runs on every repository of the backup; \"repositories\" is not accepted.")
                }
                return .prune(backup: name)
            }
        }
        api.post("backups/{name}/drill") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: JobBody.self) { body in
                if body?.repositories != nil {
                    throw APIError.invalid("A drill runs on every repository of the backup; \"repositories\" is not accepted.")
                }
                return .drill(backup: name)
            }
        }
        api.post("backups/{name}/alarm/ack") { _, context in
            let alarm = try await engine.acknowledgeAlarm(backup: try context.parameters.require("name"))
            return try RouteSupport.json(AlarmEnvelope(alarm: alarm))
        }
    }

    /// `{"alarm": {...}}`: a backup's mass-deletion alarm (null when it never had one).
    struct AlarmEnvelope: Encodable {
        var alarm: BackupAlarm?
        enum CodingKeys: String, CodingKey { case alarm }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(alarm, forKey: .alarm)
        }
    }

    struct JobBody: JobSubmissionBody {
        var priority: RouteSupport.PriorityValue?
        var repositories: [String]?
    }

    func detail(_ name: String) async throws -> Response {
        let configuration = engine.configuration
        guard let backup = configuration.backup(named: name) else {
            throw APIError(configuration.unknownBackup(name))
        }
        var lastJobs: [String: JobSummary] = [:]
        for operation in [JobOperation.Kind.backup, .prune, .drill] {
            if let record = try await engine.jobs(JobFilter(backup: name, operation: operation, limit: 1)).first {
                lastJobs[operation.rawValue] = JobSummary(record)
            }
        }
        var latest: [LatestSnapshot] = []
        for repository in backup.repositories {
            do {
                let page = try await engine.snapshots(backup: name, repository: repository, limit: 1)
                latest.append(LatestSnapshot(repository: repository, snapshot: page.items.first.map(SnapshotRoutes.Item.init), error: nil))
            } catch {
                // An unreachable repository does not hide the rest of the backup.
                latest.append(LatestSnapshot(repository: repository, snapshot: nil, error: "\(error)"))
            }
        }
        let runs = try await engine.plannedRuns().filter { $0.target == name && ($0.operation == .backup || $0.operation == .prune || $0.operation == .drill) }
        return try RouteSupport.json(Detail(
            name: name, definition: configuration.redactedJSON(backup: backup), lastJobs: lastJobs, latestSnapshots: latest,
            nextRuns: runs, alarm: try await engine.alarm(backup: name)
        ))
    }

    struct Overview: Encodable {
        var name: String
        var paths: [String]
        var repositories: [String]
        var schedules: [String]
        var watched: Bool
        var priority: String
        var lastBackup: JobSummary?
        var nextRun: PlannedRun?
        var lastDrill: JobSummary?
        var alarm: BackupAlarm?
        enum CodingKeys: String, CodingKey {
            case name, paths, repositories, schedules, watched, priority, alarm
            case lastBackup = "last_backup"
            case nextRun = "next_run"
            case lastDrill = "last_drill"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(paths, forKey: .paths)
            try container.encode(repositories, forKey: .repositories)
            try container.encode(schedules, forKey: .schedules)
            try container.encode(watched, forKey: .watched)
            try container.encode(priority, forKey: .priority)
            try container.encode(lastBackup, forKey: .lastBackup)
            try container.encode(nextRun, forKey: .nextRun)
            try container.encode(lastDrill, forKey: .lastDrill)
            try container.encode(alarm, forKey: .alarm)
        }
    }

    struct LatestSnapshot: Encodable {
        var repository: String
        var snapshot: SnapshotRoutes.Item?
        var error: String?
        enum CodingKeys: String, CodingKey { case repository, snapshot, error }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(repository, forKey: .repository)
            try container.encode(snapshot, forKey: .snapshot)
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    struct Detail: Encodable {
        var name: String
        var definition: JSONValue
        var lastJobs: [String: JobSummary]
        var latestSnapshots: [LatestSnapshot]
        var nextRuns: [PlannedRun]
        var alarm: BackupAlarm?
        enum CodingKeys: String, CodingKey {
            case name, definition, alarm
            case lastJobs = "last_jobs"
            case latestSnapshots = "latest_snapshots"
            case nextRuns = "next_runs"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(definition, forKey: .definition)
            try container.encode(lastJobs, forKey: .lastJobs)
            try container.encode(latestSnapshots, forKey: .latestSnapshots)
            try container.encode(nextRuns, forKey: .nextRuns)
            try container.encode(alarm, forKey: .alarm)
        }
    }
}
