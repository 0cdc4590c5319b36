import Foundation
import HenAPI
import HenDrivers
import HenEngine
import Hummingbird
import NIOCore

/// `/snapshots` and `/repositories/{name}/snapshots/{id}[/tree|/download]`: this host's snapshots, their
/// trees (one directory level a page, from the engine's index) and their contents (streamed, never buffered).
///
/// The repository parameter is `{name}`, as in `/repositories/{name}`, so that the router's tree has one
/// capture at that level.
public struct SnapshotRoutes: Sendable {
    let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.get("snapshots") { request, _ in try await list(request) }
        api.get("repositories/{name}/snapshots/{id}") { _, context in try await detail(context) }
        api.delete("repositories/{name}/snapshots/{id}") { request, context in try await forget(request, context) }
        api.get("repositories/{name}/snapshots/{id}/tree") { request, context in try await tree(request, context) }
        api.get("repositories/{name}/snapshots/{id}/download") { request, context in try await download(request, context) }
        api.get("repositories/{name}/snapshots/{id}/diff") { request, context in try await diff(request, context) }
    }

    // MARK: Handlers

    func list(_ request: Request) async throws -> Response {
        let page = try await engine.snapshots(
            backup: request.query("backup"),
            repository: request.query("repository"),
            limit: try RouteSupport.limit(request.queryValue("limit")),
            cursor: request.query("cursor"),
            refresh: try RouteSupport.flag(request.queryValue("refresh"), name: "refresh")
        )
        return try RouteSupport.json(API.SnapshotPage(page))
    }

    func detail(_ context: HenRequestContext) async throws -> Response {
        let found = try await engine.snapshot(repository: try context.parameters.require("name"), id: try context.parameters.require("id"))
        return try RouteSupport.json(API.Snapshot(found))
    }

    func forget(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        let record = try await engine.forget(repository: try context.parameters.require("name"), snapshot: try context.parameters.require("id"), trigger: RouteSupport.trigger(request))
        return try RouteSupport.json(API.JobAccepted(job: record), status: .accepted)
    }

    func tree(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        let page = try await engine.directory(
            repository: try context.parameters.require("name"),
            snapshot: try context.parameters.require("id"),
            path: request.queryValue("path") ?? "/",
            limit: try RouteSupport.limit(request.queryValue("limit")),
            cursor: request.query("cursor")
        )
        return try RouteSupport.json(API.TreePage(page))
    }

    func download(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        guard let path = request.queryValue("path") else {
            throw APIError.badRequest("A download needs ?path= (a file, or a directory such as / for the whole snapshot).")
        }
        let download = try await engine.download(repository: try context.parameters.require("name"), snapshot: try context.parameters.require("id"), path: path)
        var headers = HTTPFields()
        headers[.contentType] = download.kind == .file ? "application/octet-stream" : "application/x-tar"
        headers[.contentDisposition] = Self.attachment(download.fileName)
        let bytes = download.bytes
        // Written chunk by chunk as the driver produces them; the client's pace holds the driver back.
        let body = ResponseBody(contentLength: download.size.map { Int($0) }) { writer in
            for try await chunk in bytes {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// What changed from `?against=` (`parent`, the default, or a snapshot id) to this snapshot: the counts
    /// and one page of changed paths, `?change=added|removed|modified` for one kind only.
    func diff(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        let kind: SnapshotChange.Kind?
        if let text = request.query("change") {
            guard let parsed = SnapshotChange.Kind(rawValue: text) else {
                throw APIError.badRequest("change=\(text) is not a kind of change; use added, removed or modified.")
            }
            kind = parsed
        } else {
            kind = nil
        }
        let page = try await engine.snapshotDiff(
            repository: try context.parameters.require("name"),
            snapshot: try context.parameters.require("id"),
            against: request.query("against") ?? "parent",
            kind: kind,
            limit: try RouteSupport.limit(request.queryValue("limit")),
            cursor: request.query("cursor")
        )
        return try RouteSupport.json(API.SnapshotDiff(page))
    }

    /// `attachment; filename="…"` with an ASCII fallback and the exact name in RFC 5987 form.
    static func attachment(_ name: String) -> String {
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
