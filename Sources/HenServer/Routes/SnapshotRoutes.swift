import Foundation
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
        return try RouteSupport.json(ListPage(items: page.items.map(Item.init), nextCursor: page.nextCursor, errors: page.unreadable))
    }

    /// `{"items", "next_cursor", "errors"}`: `errors` names each repository that could not be read (the
    /// others are listed); empty when every one was.
    struct ListPage: Encodable {
        var items: [Item]
        var nextCursor: String?
        var errors: [UnreadableRepository]
        enum CodingKeys: String, CodingKey { case errors }
        func encode(to encoder: any Encoder) throws {
            // The usual page, and `errors` beside its keys.
            try Page(items: items, nextCursor: nextCursor).encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(errors, forKey: .errors)
        }
    }

    func detail(_ context: HenRequestContext) async throws -> Response {
        let found = try await engine.snapshot(repository: try context.parameters.require("name"), id: try context.parameters.require("id"))
        return try RouteSupport.json(Item(found))
    }

    func forget(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        let record = try await engine.forget(repository: try context.parameters.require("name"), snapshot: try context.parameters.require("id"), trigger: RouteSupport.trigger(request))
        return try RouteSupport.json(JobEnvelope(job: record), status: .accepted)
    }

    func tree(_ request: Request, _ context: HenRequestContext) async throws -> Response {
        let page = try await engine.directory(
            repository: try context.parameters.require("name"),
            snapshot: try context.parameters.require("id"),
            path: request.queryValue("path") ?? "/",
            limit: try RouteSupport.limit(request.queryValue("limit")),
            cursor: request.query("cursor")
        )
        return try RouteSupport.json(TreePage(page))
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
        return try RouteSupport.json(DiffPage(page))
    }

    // MARK: Encoding

    /// A snapshot as the API shows it.
    struct Item: Encodable {
        var found: RepositorySnapshot
        init(_ found: RepositorySnapshot) { self.found = found }
        enum CodingKeys: String, CodingKey { case repository, id, shortID = "short_id", time, host, tags, paths, parent, backup, job }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let snapshot = found.snapshot
            try container.encode(found.repository, forKey: .repository)
            try container.encode(snapshot.id, forKey: .id)
            try container.encode(snapshot.shortID, forKey: .shortID)
            try container.encode(snapshot.time, forKey: .time)
            try container.encode(snapshot.host, forKey: .host)
            try container.encode(snapshot.tags, forKey: .tags)
            try container.encode(snapshot.paths, forKey: .paths)
            try container.encode(snapshot.parent, forKey: .parent)
            try container.encode(snapshot.backup, forKey: .backup)
            try container.encode(snapshot.jobID, forKey: .job)
        }
    }

    struct TreePage: Encodable {
        var page: DirectoryPage
        init(_ page: DirectoryPage) { self.page = page }
        enum CodingKeys: String, CodingKey { case repository, snapshot, path, items, nextCursor = "next_cursor" }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(page.repository, forKey: .repository)
            try container.encode(page.snapshotID, forKey: .snapshot)
            try container.encode(page.path, forKey: .path)
            try container.encode(page.items.map(TreeEntry.init), forKey: .items)
            try container.encode(page.nextCursor, forKey: .nextCursor)
        }
    }

    /// One entry of a directory: `type` is file, directory, symlink or other; `mode` the permission bits.
    struct TreeEntry: Encodable {
        var node: Node
        init(_ node: Node) { self.node = node }
        enum CodingKeys: String, CodingKey { case name, path, type, size, mode, mtime, linkTarget = "link_target" }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(node.name, forKey: .name)
            try container.encode(node.path, forKey: .path)
            try container.encode(node.kind.rawValue, forKey: .type)
            try container.encode(node.size, forKey: .size)
            try container.encode(node.mode, forKey: .mode)
            try container.encode(node.modificationTime, forKey: .mtime)
            try container.encode(node.linkTarget, forKey: .linkTarget)
        }
    }

    /// `{"repository", "snapshot", "against", "method", "added", "removed", "modified", "bytes_added",
    /// "bytes_removed", "items": [{"path", "change", "type"}], "next_cursor"}`.
    struct DiffPage: Encodable {
        var page: SnapshotDiffPage
        init(_ page: SnapshotDiffPage) { self.page = page }
        enum CodingKeys: String, CodingKey {
            case repository, snapshot, against, method, added, removed, modified, items
            case bytesAdded = "bytes_added", bytesRemoved = "bytes_removed", nextCursor = "next_cursor"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(page.repository, forKey: .repository)
            try container.encode(Item(page.snapshot), forKey: .snapshot)
            try container.encode(Item(page.against), forKey: .against)
            try container.encode(page.counts.method.rawValue, forKey: .method)
            try container.encode(page.counts.added, forKey: .added)
            try container.encode(page.counts.removed, forKey: .removed)
            try container.encode(page.counts.modified, forKey: .modified)
            try container.encode(page.counts.bytesAdded, forKey: .bytesAdded)
            try container.encode(page.counts.bytesRemoved, forKey: .bytesRemoved)
            try container.encode(page.items.map(Change.init), forKey: .items)
            try container.encode(page.nextCursor, forKey: .nextCursor)
        }
    }

    /// One changed path: `change` is added, removed or modified; `type` file, directory, symlink, other, or
    /// null when the driver does not say.
    struct Change: Encodable {
        var change: SnapshotChange
        init(_ change: SnapshotChange) { self.change = change }
        enum CodingKeys: String, CodingKey { case path, change, type }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(change.path, forKey: .path)
            try container.encode(change.kind.rawValue, forKey: .change)
            try container.encode(change.nodeKind?.rawValue, forKey: .type)
        }
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
