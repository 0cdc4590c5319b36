import Foundation
import HenAPI
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
            let status = await engine.status()
            // What a strict health check reports (overdue backups, failed repositories): the UI marks them.
            let problems = await engine.health(strict: true).problems
            return try RouteSupport.json(API.Status(configuration: engine.configuration, startedAt: startedAt, status: status, problems: problems))
        }
    }
}
