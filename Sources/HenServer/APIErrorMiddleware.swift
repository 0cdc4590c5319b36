import HenEngine
import Hummingbird
import NIOCore

/// Turns every error a route throws into the API's JSON error shape: engine errors by their code, Hummingbird's
/// own (`HTTPError`, decoding failures, a body over the limit) by their status, anything else as a 500 that names no internals.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as EngineError {
            throw APIError(error)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : (error.status.code < 500 ? "bad_request" : "internal")
            throw APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", RequestLimits.bodyTooLargeMessage)
        } catch is DecodingError {
            throw APIError.badRequest("The request body is not the JSON this route expects.")
        } catch {
            context.logger.error("Unexpected error answering \(request.method) \(request.uri.path): \(error)")
            throw APIError(.internalServerError, "internal", "The server failed to answer; its log says why.")
        }
    }
}
