import HenAPI
import HenEngine
import HenJSON
import Hummingbird
import Foundation
import NIOCore

/// An API error: `{"error": {"code": "...", "message": "..."}}` with a 4xx status for anything the client got
/// wrong. Every route throws this (or an `EngineError`, which ``APIErrorMiddleware`` maps).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// Stable, snake_case (`not_found`, `invalid_request`…); clients switch on it.
    public var code: String
    /// One sentence for a person, naming what is affected. Never a secret.
    public var message: String
    /// Every problem, for errors that have several (a configuration's issues, with file, line and key path).
    public var details: [ConfigurationIssue]?
    /// The `Allow` header of a 405.
    public var allow: String?
    /// The `Retry-After` header (seconds) of a 429.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [ConfigurationIssue]? = nil, allow: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.allow = allow
    }

    public var description: String { message }

    public static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    public static func invalid(_ message: String) -> APIError { APIError(.unprocessableContent, "invalid_request", message) }
    public static func conflict(_ message: String) -> APIError { APIError(.conflict, "conflict", message) }
    /// Too many wrong passwords for one user from the client's address: 429 with `Retry-After`.
    public static func throttled(_ seconds: Int) -> APIError {
        var error = APIError(.tooManyRequests, "too_many_requests", APIAuthenticator.throttledMessage(seconds))
        error.retryAfter = seconds
        return error
    }

    /// The engine's error codes as HTTP statuses.
    public init(_ error: EngineError) {
        switch error.code {
        case .notFound: self.init(.notFound, error.code.rawValue, error.message)
        case .invalidRequest: self.init(.unprocessableContent, error.code.rawValue, error.message)
        case .badRequest: self.init(.badRequest, error.code.rawValue, error.message)
        case .conflict: self.init(.conflict, error.code.rawValue, error.message)
        case .readOnly: self.init(.conflict, error.code.rawValue, error.message)
        case .shuttingDown, .storeUnavailable: self.init(.serviceUnavailable, error.code.rawValue, error.message)
        default: self.init(.internalServerError, error.code.rawValue, error.message)
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try HenJSON.encoder().encode(API.Error(error: .init(code: code, message: message, details: details)))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let allow { headers[.allow] = allow }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized, !Self.fromBrowserPage(request) { headers[.wwwAuthenticate] = #"Basic realm="hen-backup", charset="UTF-8""# }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension APIError {
    /// The web UI's requests (`X-Hen-Client: ui`) and a browser's event stream (`Accept: text/event-stream`,
    /// which an EventSource cannot change): a `WWW-Authenticate` challenge would make the browser open its own
    /// password dialog (and hold the request until it is answered) instead of letting the page show its login.
    static func fromBrowserPage(_ request: Request) -> Bool {
        let client = request.headers.first(where: { $0.name.canonicalName == "x-hen-client" })?.value.lowercased()
        return client == "ui" || (request.headers[.accept]?.contains("text/event-stream") ?? false)
    }
}
