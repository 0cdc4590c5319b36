import Foundation
import HenDrivers

extension Engine {
    /// One page of what changed from `against` (`parent`, the default, or a snapshot id) to snapshot `id`,
    /// sorted by path, only changes of `kind` when given (``SnapshotBrowser/snapshotDiff(repository:snapshot:against:kind:limit:cursor:)``).
    public nonisolated func snapshotDiff(repository: String, snapshot id: String, against: String = "parent", kind: SnapshotChange.Kind? = nil, limit: Int = defaultPageSize, cursor: String? = nil) async throws -> SnapshotDiffPage {
        try await snapshotBrowser.snapshotDiff(repository: repository, snapshot: id, against: against, kind: kind, limit: limit, cursor: cursor)
    }
}
