import Foundation
import HenAPI
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
            let items = page.items.compactMap { name in configuration.repositories[name].map { API.RepositoryOverview($0, configuration: configuration) } }
            return try RouteSupport.json(API.Page(items: items, nextCursor: page.next))
        }
        api.get("repositories/{name}") { _, context in try await detail(try context.parameters.require("name")) }
        api.post("repositories/{name}/check") { request, context in
            let name = try context.parameters.require("name")
            return try await RouteSupport.submitJob(request, context, engine: engine, body: API.CheckRequest.self) { body in
                .check(repository: name, readDataSubset: body?.readDataSubset ?? engine.configuration.repositories[name]?.check.readDataSubset)
            }
        }
        api.post("repositories/{name}/unlock") { request, context in
            let name = try context.parameters.require("name")
            // The check's body shape, so that its read_data_subset is refused rather than silently ignored.
            return try await RouteSupport.submitJob(request, context, engine: engine, body: API.CheckRequest.self) { body in
                if body?.readDataSubset != nil {
                    throw APIError.invalid("An unlock reads no data; \"read_data_subset\" is not accepted (it belongs to a check).")
                }
                return .unlock(repository: name)
            }
        }
    }

    func detail(_ name: String) async throws -> Response {
        let configuration = engine.configuration
        guard let repository = configuration.repositories[name] else {
            throw APIError(configuration.unknownRepository(name))
        }
        var stats = API.RepositoryStats()
        do {
            let summary = try await engine.snapshotSummary(repository: name)
            stats.snapshotCount = summary.count
            stats.latestSnapshot = summary.latest.map(API.Snapshot.init)
        } catch {
            // Unreachable, wrong password…: said, not hidden behind a 500.
            stats.error = "\(error)"
        }
        let lastCheck = try await engine.jobSummaries(JobFilter(target: name, operation: .check, limit: 1)).first
        if let result = try await engine.jobSummaries(JobFilter(states: [.succeeded, .warning], operation: .backup, limit: 50))
            .lazy.compactMap({ $0.results.first { $0.repository == name } }).first
        {
            stats.lastBackupBytesAdded = result.bytesAdded
            stats.lastBackupBytesProcessed = result.bytesProcessed
            stats.lastBackupFilesProcessed = result.filesProcessed
        }
        let checkRun = try await engine.plannedRuns().first { $0.operation == .check && $0.target == name }
        return try RouteSupport.json(API.RepositoryDetail(
            overview: API.RepositoryOverview(repository, configuration: configuration), definition: configuration.redactedJSON(repository: repository),
            stats: stats, lastCheck: lastCheck, nextCheck: checkRun
        ))
    }
}
