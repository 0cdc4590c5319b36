import Hummingbird
import Logging

/// Lets a request through when `api.auth` is `none` or its credentials are right; answers 401 otherwise.
///
/// A few paths stay open so that orchestrators, the UI's login page and API clients can start: the health
/// check, the OpenAPI document, the login itself, and the web UI's static files (they hold no data).
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = HenRequestContext
    let authenticator: APIAuthenticator
    /// Logout is open too: with an expired session it still clears the cookie.
    static let openPaths: Set<String> = ["/api/v1/health", "/api/v1/openapi.json", "/api/v1/login", "/api/v1/logout"]

    /// Answers without credentials too (identity null), but checks any that come.
    static let sessionPath = "/api/v1/session"

    public init(authenticator: APIAuthenticator) {
        self.authenticator = authenticator
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.openPaths.contains(request.uri.path) || WebUI.isUIPath(request.uri.path) { return try await next(request, context) }
        let outcome = await authenticator.authenticate(authorization: request.headers[.authorization], cookie: request.headers[.cookie], address: context.clientAddress)
        switch outcome {
        case .open:
            return try await next(request, context)
        case .authenticated(let identity):
            var context = context
            context.identity = identity
            context.logger[metadataKey: "client"] = "\(identity)"
            return try await next(request, context)
        case .missing where request.uri.path == Self.sessionPath:
            // The UI asks who it is before it knows whether to show the login: no credentials is an answer
            // (`identity: null`), not an error. Wrong credentials still are.
            return try await next(request, context)
        case .missing:
            throw APIError(.unauthorized, "unauthorized", "This API needs credentials: a bearer token (Authorization: Bearer …), HTTP basic, or a login.")
        case .rejected(let reason) where reason == APIAuthenticator.busyMessage:
            throw APIError(.tooManyRequests, "too_many_requests", reason)
        case .throttled(let seconds):
            context.logger.warning("Authentication refused: too many wrong passwords for this user from this address.", metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "remote": "\(context.clientAddress)", "retry_after": "\(seconds)",
            ])
            throw APIError.throttled(seconds)
        case .rejected(let reason):
            context.logger.warning("Authentication failed.", metadata: [
                "reason": "\(reason)", "method": "\(request.method)", "path": "\(request.uri.path)",
                "remote": "\(context.clientAddress)",
            ])
            throw APIError(.unauthorized, "unauthorized", reason)
        }
    }
}
