import Foundation
import GRDB

/// The small record of what restore drills drilled: per backup and repository, each path with when it was
/// last drilled, the newest ``drilledPathsKept`` only. Drills favour the paths not in it.
extension JobStore {
    /// How many drilled paths are kept per backup and repository.
    static let drilledPathsKept = 20_000

    /// The paths of `backup` in `repository` drilled before `date`.
    func drilledPaths(backup: String, repository: String, before date: Date) async throws -> Set<String> {
        try await read { db in
            Set(try String.fetchAll(
                db, sql: "SELECT path FROM drilled_file WHERE backup = ? AND repository = ? AND drilled_at < ?",
                arguments: [backup, repository, date.timeIntervalSince1970]
            ))
        }
    }

    /// Records `paths` as drilled at `date`, keeping the newest ``drilledPathsKept``.
    func recordDrilled(backup: String, repository: String, paths: [String], at date: Date) async throws {
        guard !paths.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(sql: "INSERT OR REPLACE INTO drilled_file (backup, repository, path, drilled_at) VALUES (?, ?, ?, ?)")
            for path in paths {
                try statement.execute(arguments: [backup, repository, path, date.timeIntervalSince1970])
            }
            try db.execute(
                sql: """
                    DELETE FROM drilled_file WHERE backup = ?1 AND repository = ?2 AND path IN (
                        SELECT path FROM drilled_file WHERE backup = ?1 AND repository = ?2
                        ORDER BY drilled_at DESC, path LIMIT -1 OFFSET ?3)
                    """,
                arguments: [backup, repository, Self.drilledPathsKept]
            )
        }
    }
}
