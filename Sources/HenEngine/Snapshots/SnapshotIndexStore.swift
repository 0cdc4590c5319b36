import Foundation
import GRDB
import HenDrivers

/// The snapshot list cache and the tree index of every browsed snapshot: SQLite (WAL) at
/// `data_dir/snapshots.sqlite`, apart from the job store because it is a cache that may be deleted at any time.
///
/// Snapshots are immutable, so a tree once indexed completely is never indexed again. A tree is written in
/// batches while the driver's listing streams in and only counts once marked complete; an index left
/// incomplete (a crash, a failed listing) is discarded and rebuilt.
final class SnapshotIndexStore: Sendable {
    let path: String
    private let pool: DatabasePool

    /// - Parameter identities: what each configured repository name stands for now (``adopt(_:)``).
    init(path: String, identities: [String: String] = [:]) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var configuration = GRDB.Configuration()
            // The daemon and an in-process CLI may index at the same moment: wait instead of failing.
            configuration.busyMode = .timeout(10)
            pool = try MigrationLock.exclusively(path: path) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try Self.migrator.migrate(pool)
                return pool
            }
            try pool.write { db in try Self.adopt(identities, db) }
        } catch {
            throw EngineError(.store, "The snapshot index \(path) cannot be opened: \(error).")
        }
    }

    // MARK: Snapshot lists

    /// Records what each repository name stands for now (its driver and location, credentials hidden). A
    /// name that stood for something else, or whose list was cached before identities were kept, loses its
    /// cached list and snapshots: they are read from the repository it names now when next needed. Tree
    /// indexes stay (they are keyed by snapshot id, which names the same content wherever it lives).
    func adopt(_ identities: [String: String]) async throws {
        try await write { db in try Self.adopt(identities, db) }
    }

    private static func adopt(_ identities: [String: String], _ db: Database) throws {
        for (repository, identity) in identities {
            let known = try String.fetchOne(db, sql: "SELECT identity FROM repository_identity WHERE repository = ?", arguments: [repository])
            guard known != identity else { continue }
            try db.execute(sql: "DELETE FROM snapshot WHERE repository = ?", arguments: [repository])
            try db.execute(sql: "DELETE FROM snapshot_list WHERE repository = ?", arguments: [repository])
            try db.execute(sql: "INSERT OR REPLACE INTO repository_identity (repository, identity) VALUES (?, ?)", arguments: [repository, identity])
        }
    }

    /// Whether the list of `repository` for `hostname` is cached and no job changed the repository since.
    func isListFresh(repository: String, hostname: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT stale = 0 FROM snapshot_list WHERE repository = ? AND hostname = ?", arguments: [repository, hostname]) ?? false
        }
    }

    /// Replaces the cached list of one repository and host.
    func replaceList(repository: String, hostname: String, snapshots: [Snapshot], at date: Date) async throws {
        let rows = try snapshots.map { snapshot -> StatementArguments in
            let tags = String(decoding: try JSONEncoder().encode(snapshot.tags), as: UTF8.self)
            let paths = String(decoding: try JSONEncoder().encode(snapshot.paths), as: UTF8.self)
            return [repository, hostname, snapshot.id, snapshot.shortID, Self.micros(snapshot.time), snapshot.host, tags, paths, snapshot.parent, snapshot.backup]
        }
        try await write { db in
            try db.execute(sql: "DELETE FROM snapshot WHERE repository = ? AND hostname = ?", arguments: [repository, hostname])
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO snapshot (repository, hostname, id, short_id, time, host, tags, paths, parent, backup)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for row in rows { try statement.execute(arguments: row) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO snapshot_list (repository, hostname, refreshed_at, stale) VALUES (?, ?, ?, 0)",
                arguments: [repository, hostname, date.timeIntervalSince1970]
            )
        }
    }

    /// Adds a snapshot a job made to the cached list of `repository` and `hostname`, without changing whether
    /// the list is fresh. In a fresh list it gets the parent restic chose: the newest earlier snapshot of
    /// its host whose paths include all of its own.
    func add(_ snapshot: Snapshot, repository: String, hostname: String) async throws {
        let tags = String(decoding: try JSONEncoder().encode(snapshot.tags), as: UTF8.self)
        let paths = String(decoding: try JSONEncoder().encode(snapshot.paths), as: UTF8.self)
        let time = Self.micros(snapshot.time)
        try await write { db in
            var parent = snapshot.parent
            let fresh = try Bool.fetchOne(db, sql: "SELECT stale = 0 FROM snapshot_list WHERE repository = ? AND hostname = ?", arguments: [repository, hostname]) ?? false
            if parent == nil, fresh {
                let wanted = Set(snapshot.paths)
                let candidates = try Row.fetchCursor(
                    db, sql: "SELECT id, paths FROM snapshot WHERE repository = ? AND hostname = ? AND host = ? AND time <= ? AND id != ? ORDER BY time DESC",
                    arguments: [repository, hostname, snapshot.host, time, snapshot.id]
                )
                while let row = try candidates.next() {
                    let candidatePaths = try JSONDecoder().decode([String].self, from: Data((row["paths"] as String).utf8))
                    if wanted.isSubset(of: candidatePaths) {
                        parent = row["id"]
                        break
                    }
                }
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO snapshot (repository, hostname, id, short_id, time, host, tags, paths, parent, backup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [repository, hostname, snapshot.id, snapshot.shortID, time, snapshot.host, tags, paths, parent, snapshot.backup]
            )
        }
    }

    /// Removes forgotten snapshots (and their tree indexes) from the cached list of `repository` and `hostname`.
    func remove(ids: [String], repository: String, hostname: String) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids {
                try db.execute(sql: "DELETE FROM snapshot WHERE repository = ? AND hostname = ? AND id = ?", arguments: [repository, hostname, id])
                for key in try Int64.fetchAll(db, sql: "SELECT key FROM tree WHERE repository = ? AND snapshot_id = ?", arguments: [repository, id]) {
                    try db.execute(sql: "DELETE FROM node WHERE tree = ?", arguments: [key])
                    try db.execute(sql: "DELETE FROM tree WHERE key = ?", arguments: [key])
                }
            }
        }
    }

    /// Whether the cached list of `repository` and `hostname` holds a snapshot of this exact id.
    func contains(repository: String, hostname: String, id: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM snapshot WHERE repository = ? AND hostname = ? AND id = ?", arguments: [repository, hostname, id]) ?? false
        }
    }

    /// Marks the cached lists of these repositories (every host) as out of date.
    func markStale(repositories: [String]) async throws {
        guard !repositories.isEmpty else { return }
        try await write { db in
            for repository in repositories {
                try db.execute(sql: "UPDATE snapshot_list SET stale = 1 WHERE repository = ?", arguments: [repository])
            }
        }
    }

    /// One page of cached snapshots, newest first (then by repository and id), after `cursor`.
    func listPage(repositories: [String], hostname: String, backup: String?, after cursor: SnapshotListCursor?, limit: Int) async throws -> [RepositorySnapshot] {
        guard !repositories.isEmpty else { return [] }
        var sql = "SELECT * FROM snapshot WHERE hostname = ? AND repository IN (\(repositories.map { _ in "?" }.joined(separator: ", ")))"
        var arguments: [(any DatabaseValueConvertible)?] = [hostname]
        arguments += repositories.map { $0 }
        if let backup {
            sql += " AND backup = ?"
            arguments.append(backup)
        }
        if let cursor {
            sql += " AND (time < ? OR (time = ? AND (repository > ? OR (repository = ? AND id > ?))))"
            arguments += [cursor.time, cursor.time, cursor.repository, cursor.repository, cursor.id]
        }
        sql += " ORDER BY time DESC, repository ASC, id ASC LIMIT ?"
        arguments.append(limit)
        let finalArguments = StatementArguments(arguments)
        let finalSQL = sql
        return try await read { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: finalArguments).map(Self.snapshot(from:))
        }
    }

    /// How many cached snapshots of this host a repository holds.
    func count(repository: String, hostname: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM snapshot WHERE repository = ? AND hostname = ?", arguments: [repository, hostname]) ?? 0
        }
    }

    /// Cached snapshots of a repository and host whose id starts with `prefix` (at most a few).
    func snapshots(repository: String, hostname: String, idPrefix prefix: String) async throws -> [RepositorySnapshot] {
        // `GLOB` with an escaped-free hex prefix: ids and prefixes are checked to be hexadecimal first.
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM snapshot WHERE repository = ? AND hostname = ? AND id GLOB ? ORDER BY time DESC LIMIT 3",
                arguments: [repository, hostname, prefix + "*"]
            ).map(Self.snapshot(from:))
        }
    }

    /// The newest snapshot `backup` wrote in `repository` before `snapshot` (by time, then id).
    func previous(repository: String, hostname: String, backup: String, before snapshot: Snapshot) async throws -> RepositorySnapshot? {
        let time = Self.micros(snapshot.time)
        return try await read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM snapshot WHERE repository = ? AND hostname = ? AND backup = ? AND id != ?
                    AND (time < ? OR (time = ? AND id < ?)) ORDER BY time DESC, id DESC LIMIT 1
                    """,
                arguments: [repository, hostname, backup, snapshot.id, time, time, snapshot.id]
            ).map(Self.snapshot(from:))
        }
    }

    /// The newest snapshot `backup` wrote in `repository` (by time, then id): the parent of its next one.
    func latest(repository: String, hostname: String, backup: String) async throws -> RepositorySnapshot? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM snapshot WHERE repository = ? AND hostname = ? AND backup = ? ORDER BY time DESC, id DESC LIMIT 1",
                arguments: [repository, hostname, backup]
            ).map(Self.snapshot(from:))
        }
    }

    // MARK: Trees

    /// The key of the complete tree index of a snapshot, or nil when there is none (yet).
    func completeTree(repository: String, snapshotID: String) async throws -> Int64? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT key FROM tree WHERE repository = ? AND snapshot_id = ? AND complete = 1", arguments: [repository, snapshotID])
        }
    }

    /// Starts a tree index, discarding an incomplete one left behind.
    func beginTree(repository: String, snapshotID: String, at date: Date) async throws -> Int64 {
        try await write { db in
            if let old = try Int64.fetchOne(db, sql: "SELECT key FROM tree WHERE repository = ? AND snapshot_id = ?", arguments: [repository, snapshotID]) {
                try db.execute(sql: "DELETE FROM node WHERE tree = ?", arguments: [old])
                try db.execute(sql: "DELETE FROM tree WHERE key = ?", arguments: [old])
            }
            try db.execute(
                sql: "INSERT INTO tree (repository, snapshot_id, complete, node_count, started_at) VALUES (?, ?, 0, 0, ?)",
                arguments: [repository, snapshotID, date.timeIntervalSince1970]
            )
            return db.lastInsertedRowID
        }
    }

    /// Adds one batch of nodes to a tree being indexed.
    func insert(_ nodes: [Node], tree: Int64) async throws {
        try await write { db in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO node (tree, parent, name, kind, size, mode, mtime, link_target)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            // Bound and stepped through SQLite's API directly: GRDB's `execute(arguments:)` boxes every
            // value in an existential and looks up generic metadata for each, a third of the daemon's CPU
            // while indexing a snapshot (perf, BENCHMARKS.md).
            let row = RawRow(statement)
            for node in nodes {
                let (parent, name) = SnapshotPath.split(node.path)
                row.bind(1, tree)
                row.bind(2, parent)
                row.bind(3, name)
                row.bind(4, node.kind.rawValue)
                row.bind(5, node.size.map { Int64(clamping: $0) })
                row.bind(6, node.mode.map { Int64($0) })
                row.bind(7, node.modificationTime?.timeIntervalSince1970)
                row.bind(8, node.linkTarget)
                try row.step(in: db)
            }
        }
    }

    func completeTree(_ tree: Int64, nodeCount: Int) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE tree SET complete = 1, node_count = ? WHERE key = ?", arguments: [nodeCount, tree])
        }
    }

    func discardTree(_ tree: Int64) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM node WHERE tree = ?", arguments: [tree])
            try db.execute(sql: "DELETE FROM tree WHERE key = ?", arguments: [tree])
        }
    }

    /// Forgets the indexes of snapshots of `repository` that are no longer in `keeping`.
    func discardTrees(repository: String, keeping ids: Set<String>) async throws {
        try await write { db in
            let keys = try Row.fetchAll(db, sql: "SELECT key, snapshot_id FROM tree WHERE repository = ?", arguments: [repository])
            for row in keys where !ids.contains(row["snapshot_id"] as String) {
                let key: Int64 = row["key"]
                try db.execute(sql: "DELETE FROM node WHERE tree = ?", arguments: [key])
                try db.execute(sql: "DELETE FROM tree WHERE key = ?", arguments: [key])
            }
            // A diff with a snapshot that is gone goes too.
            let diffs = try Row.fetchAll(db, sql: "SELECT key, from_id, to_id FROM diff WHERE repository = ?", arguments: [repository])
            for row in diffs where !ids.contains(row["from_id"] as String) || !ids.contains(row["to_id"] as String) {
                let key: Int64 = row["key"]
                try db.execute(sql: "DELETE FROM diff_change WHERE diff = ?", arguments: [key])
                try db.execute(sql: "DELETE FROM diff WHERE key = ?", arguments: [key])
            }
        }
    }

    /// The node at `path` of an indexed tree.
    func node(tree: Int64, path: String) async throws -> Node? {
        let (parent, name) = SnapshotPath.split(path)
        return try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM node WHERE tree = ? AND parent = ? AND name = ?", arguments: [tree, parent, name])
                .map(Self.node(from:))
        }
    }

    /// Up to `limit` children of `directory`, by name (byte order), after the name `after`.
    func children(tree: Int64, directory: String, after: String?, limit: Int) async throws -> [Node] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM node WHERE tree = ? AND parent = ? AND name > ? ORDER BY name LIMIT ?",
                arguments: [tree, directory, after ?? "", limit]
            ).map(Self.node(from:))
        }
    }

    // MARK: Rows

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    private static func snapshot(from row: Row) throws -> RepositorySnapshot {
        let tags = try JSONDecoder().decode([String].self, from: Data((row["tags"] as String).utf8))
        let paths = try JSONDecoder().decode([String].self, from: Data((row["paths"] as String).utf8))
        let micros: Int64 = row["time"]
        let snapshot = Snapshot(
            id: row["id"], shortID: row["short_id"], time: Date(timeIntervalSince1970: Double(micros) / 1_000_000),
            host: row["host"], tags: tags, paths: paths, parent: row["parent"]
        )
        return RepositorySnapshot(repository: row["repository"], snapshot: snapshot)
    }

    private static func node(from row: Row) -> Node {
        let parent: String = row["parent"]
        let name: String = row["name"]
        let size: Int64? = row["size"]
        let mode: Int64? = row["mode"]
        let mtime: Double? = row["mtime"]
        return Node(
            path: SnapshotPath.join(parent, name), name: name, kind: Node.Kind(rawValue: row["kind"]) ?? .other,
            size: size.map { UInt64(max(0, $0)) }, mode: mode.map { UInt32(truncatingIfNeeded: $0) },
            modificationTime: mtime.map { Date(timeIntervalSince1970: $0) }, linkTarget: row["link_target"]
        )
    }

    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch {
            throw EngineError(.store, "The snapshot index \(path) cannot be written: \(error).")
        }
    }

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch {
            throw EngineError(.store, "The snapshot index \(path) cannot be read: \(error).")
        }
    }
}
