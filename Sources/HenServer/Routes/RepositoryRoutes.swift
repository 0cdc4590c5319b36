import Foundation
import HenEngine
import Hummingbird

/// `/repositories`: the configured repositories (credentials redacted) with what is known of them, and
/// `POST /repositories/{name}/check|unlock` to queue those jobs.
public struct RepositoryRoutes: Sendable {
    let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.get("repositories") { request, _ in
            let configuration = engine.configuration
            let names = configuration.repositories.keys.sorted()
            let page = try RouteSupport.page(names, limit: try RouteSupport.limit(request.queryValue("limit")), cursor: request.query("cursor"))
            let items = page.items.compactMap { name in configuration.repositories[name].map { Overview($0, configuration: configuration) } }
            return try RouteSupport.json(Page(items: items, nextCursor: page.next))
        }
        api.get("repositories/{name}") { _, context in try await detail(try context.parameters.require("name")) }
        api.post("repositories/{name}/check") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: CheckBody.self) { body in
                .check(repository: name, readDataSubset: body?.readDataSubset ?? engine.configuration.repositories[name]?.check.readDataSubset)
            }
        }
        api.post("repositories/{name}/unlock") { request, context in
            let name = try context.parameters.require("name")
            // The check's body shape, so that its read_data_subset is refused rather than silently ignored.
            return try await RouteSupport.submitJob(request, context, engine: engine, body: CheckBody.self) { body in
                if body?.readDataSubset != nil {
                    throw APIError.invalid("An unlock reads no data; \"read_data_subset\" is not accepted (it belongs to a check).")
                }
                return .unlock(repository: name)
            }
        }
    }

    struct CheckBody: JobSubmissionBody {
        var priority: RouteSupport.PriorityValue?
        var readDataSubset: String?
        enum CodingKeys: String, CodingKey {
            case priority
            case readDataSubset = "read_data_subset"
        }
    }

    func detail(_ name: String) async throws -> Response {
        let configuration = engine.configuration
        guard let repository = configuration.repositories[name] else {
            throw APIError(configuration.unknownRepository(name))
        }
        var stats = Stats()
        do {
            let summary = try await engine.snapshotSummary(repository: name)
            stats.snapshotCount = summary.count
            stats.latestSnapshot = summary.latest.map(SnapshotRoutes.Item.init)
        } catch {
            // Unreachable, wrong password…: said, not hidden behind a 500.
            stats.error = "\(error)"
        }
        let lastCheck = try await engine.jobs(JobFilter(target: name, operation: .check, limit: 1)).first
        if let result = try await engine.jobs(JobFilter(states: [.succeeded, .warning], operation: .backup, limit: 50))
            .lazy.compactMap({ $0.results.first { $0.repository == name } }).first
        {
            stats.lastBackupBytesAdded = result.bytesAdded
            stats.lastBackupBytesProcessed = result.bytesProcessed
            stats.lastBackupFilesProcessed = result.filesProcessed
        }
        let checkRun = try await engine.plannedRuns().first { $0.operation == .check && $0.target == name }
        return try RouteSupport.json(Detail(
            overview: Overview(repository, configuration: configuration), definition: configuration.redactedJSON(repository: repository),
            stats: stats, lastCheck: lastCheck.map(JobSummary.init), nextCheck: checkRun
        ))
    }

    struct Overview: Encodable {
        var name: String
        var driver: String
        /// Credentials in the location are hidden.
        var location: String
        /// The backup it is defined in, for an inline repository.
        var backup: String?
        /// The backups that write to it.
        var backups: [String]

        init(_ repository: Configuration.Repository, configuration: Configuration) {
            name = repository.name
            driver = repository.driver
            location = LocationRedaction.redact(repository.location)
            backup = repository.definedInBackup
            backups = configuration.backups.filter { $0.repositories.contains(repository.name) }.map(\.name)
        }

        enum CodingKeys: String, CodingKey { case name, driver, location, backup, backups }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(driver, forKey: .driver)
            try container.encode(location, forKey: .location)
            try container.encode(backup, forKey: .backup)
            try container.encode(backups, forKey: .backups)
        }
    }

    struct Stats: Encodable {
        /// This host's snapshots (other hosts' are never counted nor shown).
        var snapshotCount: Int?
        var latestSnapshot: SnapshotRoutes.Item?
        var lastBackupBytesAdded: UInt64?
        var lastBackupBytesProcessed: UInt64?
        var lastBackupFilesProcessed: UInt64?
        /// Why the repository could not be read, when it could not.
        var error: String?
        enum CodingKeys: String, CodingKey {
            case error
            case snapshotCount = "snapshot_count"
            case latestSnapshot = "latest_snapshot"
            case lastBackupBytesAdded = "last_backup_bytes_added"
            case lastBackupBytesProcessed = "last_backup_bytes_processed"
            case lastBackupFilesProcessed = "last_backup_files_processed"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(snapshotCount, forKey: .snapshotCount)
            try container.encode(latestSnapshot, forKey: .latestSnapshot)
            try container.encode(lastBackupBytesAdded, forKey: .lastBackupBytesAdded)
            try container.encode(lastBackupBytesProcessed, forKey: .lastBackupBytesProcessed)
            try container.encode(lastBackupFilesProcessed, forKey: .lastBackupFilesProcessed)
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    struct Detail: Encodable {
        var overview: Overview
        var definition: JSONValue
        var stats: Stats
        var lastCheck: JobSummary?
        var nextCheck: PlannedRun?
        enum CodingKeys: String, CodingKey {
            case definition, stats
            case lastCheck = "last_check"
            case nextCheck = "next_check"
        }
        func encode(to encoder: any Encoder) throws {
            try overview.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(definition, forKey: .definition)
            try container.encode(stats, forKey: .stats)
            try container.encode(lastCheck, forKey: .lastCheck)
            try container.encode(nextCheck, forKey: .nextCheck)
        }
    }
}
