import Foundation
import HenDrivers

extension SnapshotCatalog {
    /// The diff from `older` to `newer` (full ids of this host's snapshots), made once and kept in the
    /// index: the driver's own comparison when it has the `.diff` capability, otherwise a comparison of the
    /// two snapshots' indexed trees (indexing them first when needed). Callers that ask while it is being
    /// made wait for the same one.
    func diff(repository: String, from older: String, to newer: String, driver: any BackupDriver, now: Date) async throws -> SnapshotDiffCounts {
        let store = try store()
        if let counts = try await store.completeDiff(repository: repository, from: older, to: newer) { return counts }
        let buildKey = repository + "\n" + older + "\n" + newer
        if let running = diffs[buildKey] { return try await running.value }
        let task = Task<SnapshotDiffCounts, any Error> {
            if driver.capabilities.contains(.diff) {
                return try await Self.buildFromDriver(store: store, repository: repository, from: older, to: newer, driver: driver, now: now)
            }
            let olderTree = try await tree(repository: repository, snapshotID: older, driver: driver, now: now)
            let newerTree = try await tree(repository: repository, snapshotID: newer, driver: driver, now: now)
            let key = try await store.beginDiff(repository: repository, from: older, to: newer, method: .trees, at: now)
            do {
                try await store.compareTrees(olderTree, newerTree, diff: key)
                return try await store.completeDiff(key, statistics: nil)
            } catch {
                try? await store.discardDiff(key)
                throw error
            }
        }
        diffs[buildKey] = task
        defer { diffs[buildKey] = nil }
        return try await task.value
    }

    private static func buildFromDriver(store: SnapshotIndexStore, repository: String, from older: String, to newer: String, driver: any BackupDriver, now: Date) async throws -> SnapshotDiffCounts {
        let key = try await store.beginDiff(repository: repository, from: older, to: newer, method: .driver, at: now)
        do {
            var batch: [SnapshotChange] = []
            batch.reserveCapacity(batchSize)
            var statistics: SnapshotDiffStatistics?
            for try await item in driver.diff(from: older, to: newer) {
                switch item {
                case .change(let change):
                    batch.append(change)
                    if batch.count == batchSize {
                        try await store.insert(batch, diff: key)
                        batch.removeAll(keepingCapacity: true)
                    }
                case .statistics(let totals):
                    statistics = totals
                }
            }
            try Task.checkCancellation()
            if !batch.isEmpty { try await store.insert(batch, diff: key) }
            return try await store.completeDiff(key, statistics: statistics)
        } catch {
            try? await store.discardDiff(key)
            throw error
        }
    }

    /// The snapshot `snapshot` is compared with by default: the newest older snapshot that the same backup
    /// wrote (its `backup=` tag) in the same repository; for a snapshot without that tag, the parent the
    /// driver recorded. From the cached list, which the caller refreshed.
    func parent(of snapshot: Snapshot, repository: String, hostname: String) async throws -> RepositorySnapshot? {
        let store = try store()
        if let backup = snapshot.backup {
            return try await store.previous(repository: repository, hostname: hostname, backup: backup, before: snapshot)
        }
        guard let parent = snapshot.parent else { return nil }
        return try await store.snapshots(repository: repository, hostname: hostname, idPrefix: parent).first { $0.snapshot.id == parent }
    }
}

/// What the snapshot cache says a backup about to run has as its parent (``SnapshotCatalog/expectedParent``).
enum ExpectedParent: Sendable, Equatable {
    /// The cached list is stale or was never read: only a listing can tell.
    case unknown
    /// The list is fresh and the backup has no snapshot there yet.
    case none
    /// The newest snapshot the backup wrote there.
    case snapshot(Snapshot)
}

extension SnapshotCatalog {
    /// The parent of the next snapshot `backup` makes in `repository` (the newest one it made there), from
    /// the cached list alone when that is fresh; no driver run.
    func expectedParent(repository: String, hostname: String, backup: String) async -> ExpectedParent {
        // A refresh in flight replaces the list: its answer is the one to read.
        if let running = refreshes[repository + "\n" + hostname] { _ = try? await running.value }
        do {
            let store = try store()
            guard try await store.isListFresh(repository: repository, hostname: hostname) else { return .unknown }
            return try await store.latest(repository: repository, hostname: hostname, backup: backup).map { .snapshot($0.snapshot) } ?? ExpectedParent.none
        } catch {
            return .unknown
        }
    }

    /// A repository that a job has just created holds no snapshot: its cached list is that, fresh.
    func repositoryCreated(repository: String, hostname: String, now: Date) async {
        if let running = refreshes[repository + "\n" + hostname] { _ = try? await running.value }
        guard let store = try? store() else { return }
        try? await store.replaceList(repository: repository, hostname: hostname, snapshots: [], at: now)
    }

    /// A new snapshot (full id or the prefix a backup summary gives) and its parent (nil when it is the
    /// first of its backup there), from the repository's list read again (the cached one predates the
    /// snapshot, or may miss what happened outside Hen).
    func listedWithParent(repository: String, snapshotID: String, hostname: String, driver: any BackupDriver, now: Date) async throws -> (snapshot: Snapshot, parent: Snapshot?) {
        try await refreshList(repository: repository, hostname: hostname, driver: driver, now: now)
        let matches = try await store().snapshots(repository: repository, hostname: hostname, idPrefix: snapshotID.lowercased())
        guard matches.count == 1, let newer = matches.first else {
            throw EngineError(.notFound, "Snapshot \(snapshotID.prefix(8)) is not (or not alone) in the list of repository \(repository) read after the backup.")
        }
        return (newer.snapshot, try await parent(of: newer.snapshot, repository: repository, hostname: hostname)?.snapshot)
    }
}
