import Foundation
import HenDrivers
import HenEngine

/// Where `snapshots` and `ls` read from: the engine in this process, or the daemon's API (which shows the
/// daemon's host: another one in recovery mode with `--hostname`).
protocol SnapshotSource: Sendable {
    func snapshots(backup: String?, repository: String, cursor: String?, refresh: Bool) async throws -> (items: [Snapshot], next: String?)
    func node(repository: String, snapshot: String, path: String) async throws -> Node
    func directory(repository: String, snapshot: String, path: String, cursor: String?) async throws -> (items: [Node], next: String?)
    /// The zone the snapshots' times are shown in.
    var timeZone: TimeZone { get }
}

struct EngineSnapshotSource: SnapshotSource {
    let engine: Engine

    var timeZone: TimeZone { engine.configuration.timeZone }

    func snapshots(backup: String?, repository: String, cursor: String?, refresh: Bool) async throws -> (items: [Snapshot], next: String?) {
        let page = try await engine.snapshots(backup: backup, repository: repository, limit: Engine.maxPageSize, cursor: cursor, refresh: refresh)
        return (page.items.map(\.snapshot), page.nextCursor)
    }

    func node(repository: String, snapshot: String, path: String) async throws -> Node {
        try await engine.node(repository: repository, snapshot: snapshot, path: path)
    }

    func directory(repository: String, snapshot: String, path: String, cursor: String?) async throws -> (items: [Node], next: String?) {
        let page = try await engine.directory(repository: repository, snapshot: snapshot, path: path, limit: Engine.maxPageSize, cursor: cursor)
        return (page.items, page.nextCursor)
    }
}

struct DaemonSnapshotSource: SnapshotSource {
    let daemon: DaemonClient

    var timeZone: TimeZone { daemon.timeZone }

    /// A snapshot as the API writes it.
    struct RemoteSnapshot: Decodable {
        var id: String
        var shortID: String
        var time: Date
        var host: String
        var tags: [String]
        var paths: [String]
        var parent: String?
        enum CodingKeys: String, CodingKey {
            case id, time, host, tags, paths, parent
            case shortID = "short_id"
        }
        var snapshot: Snapshot { Snapshot(id: id, shortID: shortID, time: time, host: host, tags: tags, paths: paths, parent: parent) }
    }

    /// A directory entry as the API writes it.
    struct RemoteNode: Decodable {
        var name: String
        var path: String
        var type: String
        var size: UInt64?
        var mode: UInt32?
        var mtime: Date?
        var linkTarget: String?
        enum CodingKeys: String, CodingKey {
            case name, path, type, size, mode, mtime
            case linkTarget = "link_target"
        }
        var node: Node {
            Node(path: path, name: name, kind: Node.Kind(rawValue: type) ?? .other, size: size, mode: mode, modificationTime: mtime, linkTarget: linkTarget)
        }
    }

    func snapshots(backup: String?, repository: String, cursor: String?, refresh: Bool) async throws -> (items: [Snapshot], next: String?) {
        let page = try await daemon.get(RemotePage<RemoteSnapshot>.self, "/api/v1/snapshots", query: [
            "backup": backup, "repository": repository, "cursor": cursor, "limit": String(Engine.maxPageSize), "refresh": refresh ? "true" : nil,
        ])
        return (page.items.map(\.snapshot), page.nextCursor)
    }

    func directory(repository: String, snapshot: String, path: String, cursor: String?) async throws -> (items: [Node], next: String?) {
        let page = try await daemon.get(RemotePage<RemoteNode>.self, "/api/v1/repositories/\(repository)/snapshots/\(snapshot)/tree", query: [
            "path": path, "cursor": cursor, "limit": String(Engine.maxPageSize),
        ])
        return (page.items.map(\.node), page.nextCursor)
    }

    /// The API lists directories; a path's own entry is found in its parent's listing.
    func node(repository: String, snapshot: String, path: String) async throws -> Node {
        let normalized = "/" + path.split(separator: "/").joined(separator: "/")
        if normalized == "/" { return Node(path: "/", name: "/", kind: .directory) }
        let parent = (normalized as NSString).deletingLastPathComponent
        let name = (normalized as NSString).lastPathComponent
        var cursor: String?
        repeat {
            let page = try await directory(repository: repository, snapshot: snapshot, path: parent, cursor: cursor)
            if let found = page.items.first(where: { $0.name == name }) { return found }
            cursor = page.next
        } while cursor != nil
        throw DaemonClient.Failure(status: 404, code: "not_found", message: "Snapshot \(snapshot) in \(repository) has no \(normalized).")
    }
}
