import Foundation
import HenDrivers

/// The engine's snapshot list cache and tree index, and the work on them in flight: one refresh per
/// repository and one indexing per snapshot at a time, however many requests ask meanwhile.
///
/// The store (`data_dir/snapshots.sqlite`) is opened on first use, so engines that never browse never create it.
public actor SnapshotCatalog {
    let dataDirectory: String
    private var opened: SnapshotIndexStore?
    /// Lists being read, by repository and host (``refreshList(repository:hostname:driver:now:)``).
    var refreshes: [String: Task<Void, any Error>] = [:]
    private var builds: [String: Task<Int64, any Error>] = [:]
    /// Diffs being made, by repository and the two ids (``diff(repository:from:to:driver:now:)``).
    var diffs: [String: Task<SnapshotDiffCounts, any Error>] = [:]
    /// The repositories whose cached list a running job brought up to date itself, by job id.
    private var recordedRepositories: [String: Set<String>] = [:]

    /// What each configured repository name stands for (``identities(of:)``), given to the store when it opens.
    private var identities: [String: String]

    init(dataDirectory: String, identities: [String: String]) {
        self.dataDirectory = dataDirectory
        self.identities = identities
    }

    /// Each repository's driver and location (credentials hidden): a cached list belongs to what its
    /// repository name stood for when it was read.
    static func identities(of configuration: Configuration) -> [String: String] {
        configuration.repositories.mapValues { $0.driver + " " + LocationRedaction.redact($0.location) }
    }

    /// A new configuration is in force: a repository name that now stands for another repository drops its
    /// cached list (``SnapshotIndexStore/adopt(_:)``).
    func configurationChanged(_ configuration: Configuration) async {
        identities = Self.identities(of: configuration)
        // A store not opened yet adopts them when it opens; one that cannot be written reports it on next use.
        try? await opened?.adopt(identities)
    }

    /// Where the cache and the index live.
    public nonisolated var path: String { (dataDirectory as NSString).appendingPathComponent("snapshots.sqlite") }

    func store() throws -> SnapshotIndexStore {
        if let opened { return opened }
        let store = try SnapshotIndexStore(path: path, identities: identities)
        opened = store
        return store
    }

    /// A job that added or removed snapshots and said exactly which (``recordBackup``, ``recordForget``)
    /// leaves the cached list as it is; every other repository it touched (a failed or stopped run, a driver
    /// that could not say) has its cached list marked stale, to be read again when next needed.
    func jobEnded(_ record: JobRecord) async {
        let recorded = recordedRepositories.removeValue(forKey: record.id) ?? []
        switch record.request {
        case .backup, .prune, .forget: break
        default: return
        }
        let stale = record.repositories.filter { !recorded.contains($0) }
        // A store that cannot be opened has no cache to correct; the next read reports the problem.
        guard !stale.isEmpty, let store = try? store() else { return }
        try? await store.markStale(repositories: stale)
    }

    /// Adds the snapshot a backup job just made to the cached list (after any refresh in flight, which
    /// would otherwise put back the list from before it).
    func recordBackup(jobID: String, repository: String, hostname: String, snapshot: Snapshot) async {
        if let running = refreshes[repository + "\n" + hostname] { _ = try? await running.value }
        guard let store = try? store(), (try? await store.add(snapshot, repository: repository, hostname: hostname)) != nil else { return }
        recordedRepositories[jobID, default: []].insert(repository)
    }

    /// A backup whose snapshot the driver saw alone in the repository (``BackupSummary/onlySnapshot``): the
    /// cached list is that snapshot, fresh, with no listing, whether or not the repository was listed before.
    func recordOnlySnapshot(jobID: String, repository: String, hostname: String, snapshot: Snapshot, now: Date) async {
        if let running = refreshes[repository + "\n" + hostname] { _ = try? await running.value }
        guard let store = try? store(), (try? await store.replaceList(repository: repository, hostname: hostname, snapshots: [snapshot], at: now)) != nil else { return }
        recordedRepositories[jobID, default: []].insert(repository)
    }

    /// Removes what a forget or prune job removed from the cached list.
    func recordForget(jobID: String, repository: String, hostname: String, removed: [String]) async {
        if let running = refreshes[repository + "\n" + hostname] { _ = try? await running.value }
        guard let store = try? store(), (try? await store.remove(ids: removed, repository: repository, hostname: hostname)) != nil else { return }
        recordedRepositories[jobID, default: []].insert(repository)
    }

    /// Whether each id is a full id in the cached list of this host's snapshots of `repository` (no driver
    /// run): a job about them then needs no listing to confirm they are this host's.
    func knows(repository: String, hostname: String, ids: [String]) async -> Bool {
        guard !ids.isEmpty, let store = try? store() else { return false }
        for id in ids {
            guard id.utf8.count == 64, (try? await store.contains(repository: repository, hostname: hostname, id: id)) == true else { return false }
        }
        return true
    }

    /// Whether the snapshot's complete tree index holds every one of `paths` (false without an index).
    func indexHolds(repository: String, snapshotID: String, paths: [String]) async -> Bool {
        guard let store = try? store(), let tree = try? await store.completeTree(repository: repository, snapshotID: snapshotID) else { return false }
        for path in paths where path != "/" {
            guard (try? await store.node(tree: tree, path: path)) != nil else { return false }
        }
        return true
    }

    /// Reads a repository's snapshot list from its driver into the cache, unless a refresh is running
    /// already (then waits for that one). Indexes of snapshots that are gone are dropped.
    func refreshList(repository: String, hostname: String, driver: any BackupDriver, now: Date) async throws {
        let key = repository + "\n" + hostname
        if let running = refreshes[key] { return try await running.value }
        let store = try store()
        let task = Task<Void, any Error> {
            var snapshots: [Snapshot] = []
            do {
                for try await snapshot in driver.snapshots(SnapshotFilter()) where snapshot.host == hostname {
                    snapshots.append(snapshot)
                }
            } catch let error as DriverError where error.code == .repositoryMissing {
                // A repository not created yet has no snapshots; that is an answer worth caching.
                snapshots = []
            }
            try Task.checkCancellation()
            try await store.replaceList(repository: repository, hostname: hostname, snapshots: snapshots, at: now)
            try await store.discardTrees(repository: repository, keeping: Set(snapshots.map(\.id)))
        }
        refreshes[key] = task
        defer { refreshes[key] = nil }
        try await task.value
    }

    /// The key of a snapshot's complete tree index, indexing it first when needed (streamed from the
    /// driver's listing in batches). Callers that ask during indexing wait for the same indexing.
    func tree(repository: String, snapshotID: String, driver: any BackupDriver, now: Date) async throws -> Int64 {
        let store = try store()
        if let key = try await store.completeTree(repository: repository, snapshotID: snapshotID) { return key }
        let buildKey = repository + "\n" + snapshotID
        if let running = builds[buildKey] { return try await running.value }
        // Not a child of the caller: a client that goes away does not waste the indexing half done.
        let task = Task<Int64, any Error> {
            try await Self.build(store: store, repository: repository, snapshotID: snapshotID, driver: driver, now: now)
        }
        builds[buildKey] = task
        defer { builds[buildKey] = nil }
        return try await task.value
    }

    /// Nodes per insert transaction: large enough to be fast, small enough to keep memory flat.
    static let batchSize = 2_000

    private static func build(store: SnapshotIndexStore, repository: String, snapshotID: String, driver: any BackupDriver, now: Date) async throws -> Int64 {
        let key = try await store.beginTree(repository: repository, snapshotID: snapshotID, at: now)
        // One batch is written while the next is read: writing in line with the reading stopped the
        // listing (and the driver's process, its pipe full) for every batch's transaction. Two batches
        // at most are held.
        var writing: Task<Void, any Error>?
        do {
            var batch: [Node] = []
            batch.reserveCapacity(batchSize)
            var count = 0
            for try await node in driver.list(snapshot: snapshotID, path: nil) {
                batch.append(node)
                count += 1
                if batch.count == batchSize {
                    try await writing?.value
                    let full = batch
                    writing = Task { try await store.insert(full, tree: key) }
                    batch = []
                    batch.reserveCapacity(batchSize)
                }
            }
            try Task.checkCancellation()
            try await writing?.value
            writing = nil
            if !batch.isEmpty { try await store.insert(batch, tree: key) }
            try await store.completeTree(key, nodeCount: count)
            return key
        } catch {
            // The batch being written ends before the tree is discarded, or it would outlive it.
            _ = try? await writing?.value
            try? await store.discardTree(key)
            throw error
        }
    }
}
