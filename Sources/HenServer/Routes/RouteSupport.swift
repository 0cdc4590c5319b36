import Foundation
import HenAPI
import HenEngine
import HenJSON
import Hummingbird
import NIOCore

/// What every route file shares: JSON answers (HenJSON's convention), request bodies, query parsing.
enum RouteSupport {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try HenJSON.encoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `limit`: 1 … ``Engine/maxPageSize``, default ``Engine/defaultPageSize``.
    static func limit(_ text: String?) throws -> Int {
        guard let text else { return Engine.defaultPageSize }
        guard let value = Int(text), (1...Engine.maxPageSize).contains(value) else {
            throw APIError.badRequest("limit must be a whole number from 1 to \(Engine.maxPageSize), not \(text).")
        }
        return value
    }

    static func flag(_ text: String?, name: String) throws -> Bool {
        switch text {
        case nil, "false", "0": return false
        case "", "true", "1": return true
        default: throw APIError.badRequest("\(name) must be true or false, not \(text ?? "").")
        }
    }

    /// A list answered in pages whose cursor is the offset (lists from the configuration: backups, repositories).
    /// The cursor is what openapi.json's `OffsetCursor` says: 1 to 18 decimal digits, nothing else (no sign).
    static func page<T>(_ all: [T], limit: Int, cursor: String?) throws -> (items: ArraySlice<T>, next: String?) {
        var start = 0
        if let cursor {
            guard cursor.utf8.count <= 18, cursor.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let offset = Int(cursor) else {
                throw APIError.badRequest("The cursor \(cursor) is not one this server gave.")
            }
            start = min(offset, all.count)
        }
        let end = min(all.count, start + limit)
        return (all[start..<end], end < all.count ? String(end) : nil)
    }

    /// A request body that may be empty (`POST /backups/{name}/backup` without options).
    static func optionalBody<T: Decodable>(_ type: T.Type, _ request: Request, context: HenRequestContext) async throws -> T? {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        do {
            return try HenJSON.decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("The request body is not the JSON this route expects: \(describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type\(path(context))."
        case .keyNotFound(let key, let context): return "\"\(key.stringValue)\" is missing\(path(context))."
        case .dataCorrupted(let context): return "not valid JSON\(path(context))."
        @unknown default: return "not valid JSON."
        }
    }

    /// Who asked: the CLI and the web UI say so in `X-Hen-Client` (`cli`, `ui`); anything else is `api`.
    static func trigger(_ request: Request) -> JobTrigger {
        switch request.headers.first(where: { $0.name.canonicalName == "x-hen-client" })?.value.lowercased() {
        case "cli": .cli
        case "ui": .ui
        default: .api
        }
    }

    /// `priority` as text (`immediate`, `next`, `superior`, `normal`, `inferior`, `on-idle`) or an integer.
    static func priority(_ value: API.Priority?) throws -> JobPriority? {
        guard let value else { return nil }
        switch value {
        case .number(let number): return .level(number)
        case .text(let text):
            guard let priority = JobPriority(recordText: text) else {
                throw APIError.invalid("priority \"\(text)\" is not immediate, next, superior, normal, inferior, on-idle or an integer.")
            }
            return priority
        }
    }
}

extension Request {
    /// A query parameter; empty (`?cursor=`) is the same as absent.
    func query(_ name: String) -> String? {
        guard let value = queryValue(name), !value.isEmpty else { return nil }
        return value
    }

    /// A query parameter as the client wrote it, form-decoded: `+` is a space (what a browser's
    /// `URLSearchParams` sends), `%2B` a plus. `?flag` alone is present and empty. The first occurrence wins.
    func queryValue(_ name: String) -> String? {
        guard let query = uri.query else { return nil }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard Self.formDecode(parts[0]) == name else { continue }
            return parts.count > 1 ? Self.formDecode(parts[1]) : ""
        }
        return nil
    }

    private static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
