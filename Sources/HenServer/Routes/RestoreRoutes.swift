import HenAPI
import HenEngine
import Hummingbird

/// `POST /restores` `{repository, snapshot, paths, target}` → `202 {"job": {...}}`. The engine checks the
/// target against `restore.allowed_targets` (after `..` and symbolic links) and every path against the snapshot.
public struct RestoreRoutes: Sendable {
    let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.post("restores") { request, context in try await restore(request, context) }
    }

    func restore(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        let body = try await request.decode(as: API.RestoreRequest.self, context: context)
        let record = try await engine.restore(repository: body.repository, snapshot: body.snapshot, paths: body.paths ?? [], target: body.target, trigger: RouteSupport.trigger(request), priority: try RouteSupport.priority(body.priority))
        return try RouteSupport.json(API.JobAccepted(job: record), status: .accepted)
    }
}
