import Foundation
import HenDrivers

/// "What changed": the paths added, removed and modified between two of this host's snapshots.
extension SnapshotBrowser {
    /// One page of what changed from `against` (`parent`, the default, or a snapshot id) to snapshot `id`,
    /// sorted by path, only changes of `kind` when given. The diff is made once (the driver's own, or a
    /// comparison of the two indexed trees) and kept in the snapshot index; later pages come from there.
    func snapshotDiff(repository: String, snapshot id: String, against: String = "parent", kind: SnapshotChange.Kind? = nil, limit: Int = defaultPageSize, cursor: String? = nil) async throws -> SnapshotDiffPage {
        let limit = try Self.checkedLimit(limit)
        let after = try cursor.map { try PageCursor.decode(DiffCursor.self, from: $0) }
        let newer = try await snapshot(repository: repository, id: id)
        let older: RepositorySnapshot
        if against.lowercased() == "parent" {
            guard let parent = try await snapshotCatalog.parent(of: newer.snapshot, repository: repository, hostname: configuration.hostname) else {
                throw EngineError(.notFound, "Snapshot \(newer.snapshot.shortID) of repository \(repository) has no parent: it is the first \(newer.snapshot.backup.map { "of backup \($0) " } ?? "")there. Compare it with another snapshot (?against=ID).")
            }
            older = parent
        } else {
            older = try await snapshot(repository: repository, id: against)
        }
        guard older.snapshot.id != newer.snapshot.id else {
            throw EngineError(.invalidRequest, "A snapshot compared with itself has no changes; give another snapshot to compare \(newer.snapshot.shortID) with.")
        }
        let counts = try await diffCounts(repository: repository, from: older.snapshot.id, to: newer.snapshot.id)
        let rows = try await snapshotCatalog.store().changes(diff: counts.key, kind: kind, after: after?.after, limit: limit + 1)
        let items = Array(rows.prefix(limit))
        let next = rows.count > limit ? items.last.map { PageCursor.encode(DiffCursor(after: $0.path)) } : nil
        return SnapshotDiffPage(repository: repository, snapshot: newer, against: older, counts: counts, items: items, nextCursor: next)
    }

    func diffCounts(repository: String, from older: String, to newer: String) async throws -> SnapshotDiffCounts {
        let driver = try driver(forRepository: repository)
        do {
            return try await snapshotCatalog.diff(repository: repository, from: older, to: newer, driver: driver, now: now())
        } catch {
            throw Self.engineError(error, repository: repository)
        }
    }
}
