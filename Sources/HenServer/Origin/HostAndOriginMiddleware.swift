import HenEngine
import Hummingbird
import Logging

/// Refuses what a web page could make the user's browser send (``ServedHosts``), with auth on or off and
/// before credentials are looked at, so a valid session cookie does not help a foreign page:
///
/// - any request whose `Host` this API does not serve: 421 `misdirected_request`;
/// - a state-changing request (any method but GET, HEAD and OPTIONS) whose `Origin` is not this API's
///   own, or whose `Sec-Fetch-Site` is neither `same-origin` nor `none`: 403 `cross_origin`;
/// - a state-changing request with a body that is not `Content-Type: application/json` (what an HTML form
///   or a "simple" cross-site request sends): 415 `unsupported_media_type`.
///
/// Clients that are not browsers (curl, the CLI) send no `Origin` and no `Sec-Fetch-Site`: they only
/// need a served `Host` and JSON bodies. A request without `Host` (HTTP/1.0) cannot come from a browser.
public struct HostAndOriginMiddleware: RouterMiddleware {
    public typealias Context = HenRequestContext
    let api: @Sendable () -> Configuration.API

    public init(api: @escaping @Sendable () -> Configuration.API) {
        self.api = api
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let configuration = api()
        let served = ServedHosts(listen: configuration.listen, allowedHosts: configuration.allowedHosts)
        let host = request.head.authority
        if let host, !served.serves(host: host) {
            refuse(request, context, "host not served", ["host": Self.clip(host)])
            throw APIError(.misdirectedRequest, "misdirected_request", "This API does not answer to the host name \(Self.quoted(host)). Use localhost or 127.0.0.1, or add the name to api.allowed_hosts when a reverse proxy serves it.")
        }
        guard !Self.safeMethods.contains(request.method) else { return try await next(request, context) }
        if let site = request.headers.first(where: { $0.name.canonicalName == "sec-fetch-site" })?.value, !["same-origin", "none"].contains(site.lowercased()) {
            refuse(request, context, "cross-site request", ["sec_fetch_site": Self.clip(site)])
            throw APIError(.forbidden, "cross_origin", "A \(request.method) request must come from this API's own pages; the browser says this one comes from a \(Self.quoted(site)) page.")
        }
        if let origin = request.headers[.origin], !served.isOwnOrigin(origin, host: host) {
            refuse(request, context, "foreign origin", ["origin": Self.clip(origin)])
            throw APIError(.forbidden, "cross_origin", "A \(request.method) request must come from this API's own origin, not from \(Self.quoted(origin)).")
        }
        guard !Self.isJSON(request.headers[.contentType]) else { return try await next(request, context) }
        if let length = request.headers[.contentLength] {
            if length.trimmingCharacters(in: .whitespaces) != "0" { throw Self.notJSON }
        } else if request.headers[.transferEncoding] != nil {
            // A chunked body may still be empty (some HTTP clients send an empty POST so): read it to know.
            var request = request
            guard try await request.collectBody(upTo: context.maxUploadSize).readableBytes == 0 else { throw Self.notJSON }
            return try await next(request, context)
        }
        return try await next(request, context)
    }

    static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

    static let notJSON = APIError(.unsupportedMediaType, "unsupported_media_type", "The request body must be JSON, sent with Content-Type: application/json.")

    /// `application/json`, with parameters (`; charset=utf-8`) and in any case.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return mediaType == "application/json"
    }

    private func refuse(_ request: Request, _ context: Context, _ reason: String, _ metadata: [String: String]) {
        var fields: Logger.Metadata = ["reason": "\(reason)", "method": "\(request.method)", "path": "\(request.uri.path)", "remote": "\(context.clientAddress)"]
        for (key, value) in metadata { fields[key] = "\(value)" }
        context.logger.notice("Request refused: it may come from a web page the user opened.", metadata: fields)
    }

    /// Header values come from the client: quoted and shortened before they reach a message or the log.
    static func clip(_ text: String) -> String {
        text.count > 100 ? String(text.prefix(100)) + "…" : text
    }

    static func quoted(_ text: String) -> String { "\"\(clip(text))\"" }
}

/// 413 before a body is read when its announced length is over ``RequestLimits/maxBodyBytes``; a body
/// that turns out longer (chunked) fails the same way when a route reads it (``APIErrorMiddleware``).
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let text = request.headers[.contentLength], let length = Int(text.trimmingCharacters(in: .whitespaces)), length > RequestLimits.maxBodyBytes {
            throw APIError(.contentTooLarge, "body_too_large", RequestLimits.bodyTooLargeMessage)
        }
        return try await next(request, context)
    }
}
