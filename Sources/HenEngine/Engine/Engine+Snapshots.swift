import Foundation
import HenDrivers

/// Snapshots, always confined to the configured hostname: browsing and downloads are ``SnapshotBrowser``'s,
/// forgetting and restoring become jobs.
extension Engine {
    /// Page sizes: the default and the most one request may ask for.
    public static let defaultPageSize = SnapshotBrowser.defaultPageSize
    public static let maxPageSize = SnapshotBrowser.maxPageSize

    // MARK: Lists

    /// This host's snapshots, newest first, of one repository or of every repository (of `backup`, when
    /// given), only those `backup` wrote when given. `refresh` reads the lists from the repositories first.
    /// Of several repositories, one that cannot be read is left out and named in `unreadable`; one asked
    /// for by name throws instead.
    public nonisolated func snapshots(backup: String? = nil, repository: String? = nil, limit: Int = defaultPageSize, cursor: String? = nil, refresh: Bool = false) async throws -> SnapshotPage {
        try await snapshotBrowser.snapshots(backup: backup, repository: repository, limit: limit, cursor: cursor, refresh: refresh)
    }

    /// How many snapshots of this host a repository holds, and the newest (from the cached list, which is
    /// read from the repository when it is stale).
    public nonisolated func snapshotSummary(repository: String) async throws -> (count: Int, latest: RepositorySnapshot?) {
        try await snapshotBrowser.snapshotSummary(repository: repository)
    }

    /// One of this host's snapshots by full id, unique prefix (at least 4 hex digits), or `latest`.
    public nonisolated func snapshot(repository: String, id: String) async throws -> RepositorySnapshot {
        try await snapshotBrowser.snapshot(repository: repository, id: id)
    }

    /// Reads the snapshot list of a repository from its driver into the cache now.
    public nonisolated func refreshSnapshots(repository: String) async throws {
        try await snapshotBrowser.refreshSnapshots(repository: repository)
    }

    // MARK: Trees

    /// One level of a directory of a snapshot, sorted by name, `limit` entries after `cursor`. The first
    /// browse of a snapshot indexes its whole tree; later pages come from the index alone.
    public nonisolated func directory(repository: String, snapshot id: String, path: String = "/", limit: Int = defaultPageSize, cursor: String? = nil) async throws -> DirectoryPage {
        try await snapshotBrowser.directory(repository: repository, snapshot: id, path: path, limit: limit, cursor: cursor)
    }

    /// The node at `path` of a snapshot (indexing the snapshot first when needed).
    public nonisolated func node(repository: String, snapshot id: String, path: String) async throws -> Node {
        try await snapshotBrowser.node(repository: repository, snapshot: id, path: path)
    }

    // MARK: Download

    /// A file's bytes, or a directory (`/` for the whole snapshot) as a tar stream, read as it is consumed.
    /// The path is checked against the index before anything is read.
    public nonisolated func download(repository: String, snapshot id: String, path: String) async throws -> SnapshotDownload {
        try await snapshotBrowser.download(repository: repository, snapshot: id, path: path)
    }

    // MARK: Jobs

    /// Queues a job that forgets one of this host's snapshots (refused in recovery mode).
    public func forget(repository: String, snapshot id: String, trigger: JobTrigger = .api, priority: JobPriority? = nil) async throws -> JobRecord {
        if configuration.mode == .recovery {
            throw EngineError(.readOnly, "The configuration is in recovery mode, which never writes to a repository: cannot forget snapshot \(id) of repository \(repository).")
        }
        let found = try await snapshot(repository: repository, id: id)
        return try await submit(JobRequest(operation: .forget(repository: repository, snapshots: [found.snapshot.id]), trigger: trigger, priority: priority))
    }

    /// Queues a restore of `paths` (everything when empty) of one of this host's snapshots into `target`
    /// (see ``restoreOperation(repository:snapshot:paths:target:)``). Allowed in recovery mode.
    public func restore(repository: String, snapshot id: String, paths: [String], target: String, trigger: JobTrigger = .api, priority: JobPriority? = nil) async throws -> JobRecord {
        let operation = try await restoreOperation(repository: repository, snapshot: id, paths: paths, target: target)
        return try await submit(JobRequest(operation: operation, trigger: trigger, priority: priority))
    }

    /// The checked restore of `paths` (everything when empty) of one of this host's snapshots into `target`:
    /// what ``restore(repository:snapshot:paths:target:trigger:priority:)`` queues and the in-process CLI
    /// runs. The snapshot id is resolved to a full one and every path must be in the snapshot. With the
    /// ``RestoreScope/allowedTargets`` scope (a daemon) the target must lie inside one of
    /// `restore.allowed_targets` once `..` and symbolic links are resolved, and is spelled by its real
    /// location; with ``RestoreScope/anywhere`` (the in-process CLI) any absolute target is taken as given.
    /// The restore checks the target again when it starts.
    public nonisolated func restoreOperation(repository: String, snapshot id: String, paths: [String], target: String) async throws -> JobOperation {
        try await snapshotBrowser.restoreOperation(repository: repository, snapshot: id, paths: paths, target: target)
    }
}
