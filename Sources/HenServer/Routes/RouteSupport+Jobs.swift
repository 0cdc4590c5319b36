import HenAPI
import HenEngine
import Hummingbird

/// A route body that queues a job: every one may carry a `priority`.
protocol JobSubmissionBody: Decodable {
    var priority: API.Priority? { get }
}

extension API.BackupRequest: JobSubmissionBody {}
extension API.CheckRequest: JobSubmissionBody {}

extension RouteSupport {
    /// The one shape of a route that queues a job: decode its own body (optional), build the operation from
    /// it (throwing for a key that makes no sense for this operation), submit with the body's priority and
    /// the caller's trigger, answer 202 with the job.
    static func submitJob<Body: JobSubmissionBody>(
        _ request: Request, _ context: HenRequestContext, engine: Engine, body: Body.Type,
        operation: (Body?) throws -> JobOperation
    ) async throws -> Response {
        let body = try await optionalBody(Body.self, request, context: context)
        let operation = try operation(body)
        let record = try await engine.submit(JobRequest(operation: operation, trigger: trigger(request), priority: try priority(body?.priority)))
        return try json(API.JobAccepted(job: record), status: .accepted)
    }
}
