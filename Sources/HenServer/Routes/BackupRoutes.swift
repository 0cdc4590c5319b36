import Foundation
import HenAPI
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
            var items: [API.BackupOverview] = []
            for backup in page.items {
                let last = try await engine.jobSummaries(JobFilter(backup: backup.name, operation: .backup, limit: 1)).first
                let drill = try await engine.jobSummaries(JobFilter(backup: backup.name, operation: .drill, limit: 1)).first
                items.append(API.BackupOverview(
                    backup, lastBackup: last, nextRun: runs.first { $0.operation == .backup && $0.target == backup.name },
                    lastDrill: drill, alarm: alarms.first { $0.backup == backup.name }
                ))
            }
            return try RouteSupport.json(API.Page(items: items, nextCursor: page.next))
        }
        api.get("backups/{name}") { _, context in try await detail(try context.parameters.require("name")) }
        api.post("backups/{name}/backup") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: API.BackupRequest.self) { body in
                .backup(backup: name, repositories: body?.repositories)
            }
        }
        api.post("backups/{name}/prune") { request, context in
            let name = try context.parameters.require("name")
            // The backup's body shape, so that its repositories are refused rather than silently ignored.
            return try await RouteSupport.submitJob(request, context, engine: engine, body: API.BackupRequest.self) { body in
                if body?.repositories != nil {
                    throw APIError.invalid("A prune runs on every repository of the backup; \"repositories\" is not accepted.")
                }
                return .prune(backup: name)
            }
        }
        api.post("backups/{name}/drill") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: API.BackupRequest.self) { body in
                if body?.repositories != nil {
                    throw APIError.invalid("A drill runs on every repository of the backup; \"repositories\" is not accepted.")
                }
                return .drill(backup: name)
            }
        }
        api.post("backups/{name}/alarm/ack") { _, context in
            let alarm = try await engine.acknowledgeAlarm(backup: try context.parameters.require("name"))
            return try RouteSupport.json(API.AlarmAcknowledged(alarm: alarm))
        }
    }

    func detail(_ name: String) async throws -> Response {
        let configuration = engine.configuration
        guard let backup = configuration.backup(named: name) else {
            throw APIError(configuration.unknownBackup(name))
        }
        var lastJobs: [JobOperation.Kind: JobRecord] = [:]
        for operation in [JobOperation.Kind.backup, .prune, .drill] {
            if let record = try await engine.jobSummaries(JobFilter(backup: name, operation: operation, limit: 1)).first {
                lastJobs[operation] = record
            }
        }
        var latest: [API.LatestSnapshot] = []
        for repository in backup.repositories {
            do {
                let page = try await engine.snapshots(backup: name, repository: repository, limit: 1)
                latest.append(API.LatestSnapshot(repository: repository, snapshot: page.items.first.map(API.Snapshot.init), error: nil))
            } catch {
                // An unreachable repository does not hide the rest of the backup.
                latest.append(API.LatestSnapshot(repository: repository, snapshot: nil, error: "\(error)"))
            }
        }
        let runs = try await engine.plannedRuns().filter { $0.target == name && ($0.operation == .backup || $0.operation == .prune || $0.operation == .drill) }
        return try RouteSupport.json(API.BackupDetail(
            name: name, definition: configuration.redactedJSON(backup: backup), lastJobs: lastJobs, latestSnapshots: latest,
            nextRuns: runs, alarm: try await engine.alarm(backup: name)
        ))
    }
}
