import Foundation
import GRDB
import HenDrivers

/// Diffs of two snapshots in the index: the changes a driver reported (or a comparison of the two indexed
/// trees), written in batches and counted once complete, then read a page at a time by path.
extension SnapshotIndexStore {
    /// The complete diff from `from` to `to`, when there is one.
    func completeDiff(repository: String, from: String, to: String) async throws -> SnapshotDiffCounts? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM diff WHERE repository = ? AND from_id = ? AND to_id = ? AND complete = 1",
                arguments: [repository, from, to]
            ).map(Self.counts(from:))
        }
    }

    /// Starts a diff, discarding an incomplete one left behind.
    func beginDiff(repository: String, from: String, to: String, method: SnapshotDiffCounts.Method, at date: Date) async throws -> Int64 {
        try await write { db in
            if let old = try Int64.fetchOne(db, sql: "SELECT key FROM diff WHERE repository = ? AND from_id = ? AND to_id = ?", arguments: [repository, from, to]) {
                try db.execute(sql: "DELETE FROM diff_change WHERE diff = ?", arguments: [old])
                try db.execute(sql: "DELETE FROM diff WHERE key = ?", arguments: [old])
            }
            try db.execute(
                sql: "INSERT INTO diff (repository, from_id, to_id, method, complete, started_at) VALUES (?, ?, ?, ?, 0, ?)",
                arguments: [repository, from, to, method.rawValue, date.timeIntervalSince1970]
            )
            return db.lastInsertedRowID
        }
    }

    /// Adds one batch of a driver's changes.
    func insert(_ changes: [SnapshotChange], diff: Int64) async throws {
        try await write { db in
            let statement = try db.makeStatement(sql: "INSERT OR REPLACE INTO diff_change (diff, path, change, kind, size) VALUES (?, ?, ?, ?, NULL)")
            for change in changes {
                try statement.execute(arguments: [diff, change.path, change.kind.rawValue, change.nodeKind?.rawValue])
            }
        }
    }

    /// Fills a diff by comparing two indexed trees: a path in one only is added or removed; a path in both
    /// is modified when its type changed or, for anything but a directory, its size, modification time or
    /// link target did. Bytes are the sizes of the files added and removed.
    func compareTrees(_ older: Int64, _ newer: Int64, diff: Int64) async throws {
        try await write { db in
            let path = "CASE WHEN n.parent = '/' THEN '/' || n.name ELSE n.parent || '/' || n.name END"
            // A path in one tree only: added when it is in the newer one, removed when in the older one.
            for (change, present, absent) in [("added", newer, older), ("removed", older, newer)] {
                try db.execute(
                    sql: """
                        INSERT INTO diff_change (diff, path, change, kind, size)
                        SELECT ?, \(path), ?, n.kind, n.size FROM node n
                        WHERE n.tree = ? AND NOT EXISTS (SELECT 1 FROM node o WHERE o.tree = ? AND o.parent = n.parent AND o.name = n.name)
                        """,
                    arguments: [diff, change, present, absent]
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO diff_change (diff, path, change, kind, size)
                    SELECT ?, \(path), 'modified', n.kind, n.size FROM node n JOIN node o ON o.tree = ? AND o.parent = n.parent AND o.name = n.name
                    WHERE n.tree = ? AND (n.kind != o.kind OR (n.kind != 'directory'
                        AND (n.size IS NOT o.size OR n.mtime IS NOT o.mtime OR n.link_target IS NOT o.link_target)))
                    """,
                arguments: [diff, older, newer]
            )
            let sizes = try Row.fetchOne(
                db,
                sql: """
                    SELECT SUM(CASE WHEN change = 'added' THEN COALESCE(size, 0) ELSE 0 END) AS added,
                           SUM(CASE WHEN change = 'removed' THEN COALESCE(size, 0) ELSE 0 END) AS removed
                    FROM diff_change WHERE diff = ? AND kind = 'file'
                    """,
                arguments: [diff]
            )
            let added: Int64? = sizes?["added"]
            let removed: Int64? = sizes?["removed"]
            try db.execute(sql: "UPDATE diff SET bytes_added = ?, bytes_removed = ? WHERE key = ?", arguments: [added ?? 0, removed ?? 0, diff])
        }
    }

    /// Counts the changes (directories apart) and marks the diff complete.
    func completeDiff(_ diff: Int64, statistics: SnapshotDiffStatistics?) async throws -> SnapshotDiffCounts {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE diff SET complete = 1,
                        added = (SELECT COUNT(*) FROM diff_change WHERE diff = ?1 AND change = 'added' AND COALESCE(kind, '') != 'directory'),
                        removed = (SELECT COUNT(*) FROM diff_change WHERE diff = ?1 AND change = 'removed' AND COALESCE(kind, '') != 'directory'),
                        modified = (SELECT COUNT(*) FROM diff_change WHERE diff = ?1 AND change = 'modified' AND COALESCE(kind, '') != 'directory')
                    WHERE key = ?1
                    """,
                arguments: [diff]
            )
            if let statistics {
                try db.execute(
                    sql: "UPDATE diff SET bytes_added = ?, bytes_removed = ? WHERE key = ?",
                    arguments: [statistics.bytesAdded.map { Int64(clamping: $0) }, statistics.bytesRemoved.map { Int64(clamping: $0) }, diff]
                )
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM diff WHERE key = ?", arguments: [diff]) else {
                throw EngineError(.store, "The diff \(diff) vanished from the snapshot index while it was completed.")
            }
            return Self.counts(from: row)
        }
    }

    func discardDiff(_ diff: Int64) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM diff_change WHERE diff = ?", arguments: [diff])
            try db.execute(sql: "DELETE FROM diff WHERE key = ?", arguments: [diff])
        }
    }

    /// Up to `limit` changes of a complete diff by path (byte order) after `after`, of one kind when given.
    func changes(diff: Int64, kind: SnapshotChange.Kind?, after: String?, limit: Int) async throws -> [SnapshotChange] {
        try await read { db in
            var sql = "SELECT path, change, kind FROM diff_change WHERE diff = ? AND path > ?"
            var arguments: StatementArguments = [diff, after ?? ""]
            if let kind {
                sql += " AND change = ?"
                arguments += [kind.rawValue]
            }
            sql += " ORDER BY path LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let kind: String? = row["kind"]
                return SnapshotChange(path: row["path"], kind: SnapshotChange.Kind(rawValue: row["change"]) ?? .modified, nodeKind: kind.flatMap(Node.Kind.init(rawValue:)))
            }
        }
    }

    private static func counts(from row: Row) -> SnapshotDiffCounts {
        let bytesAdded: Int64? = row["bytes_added"]
        let bytesRemoved: Int64? = row["bytes_removed"]
        return SnapshotDiffCounts(
            key: row["key"], method: SnapshotDiffCounts.Method(rawValue: row["method"]) ?? .driver,
            added: row["added"], removed: row["removed"], modified: row["modified"],
            bytesAdded: bytesAdded.map { UInt64(max(0, $0)) }, bytesRemoved: bytesRemoved.map { UInt64(max(0, $0)) }
        )
    }
}
