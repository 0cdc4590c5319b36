import Foundation
import HenDrivers

/// Browsing and downloading snapshots, always confined to the configured hostname: another host's snapshot
/// is "not found" everywhere. Talks to the drivers for snapshot lists, tree listings and downloads; the
/// ``Engine`` forwards its snapshot methods here.
///
/// Snapshot lists come from a cache (``SnapshotCatalog``) refreshed when a job changed the repository, on
/// demand, and when an id is not in it. A snapshot's tree is indexed once on first browse; every later
/// directory page is answered from the index without running the driver.
struct SnapshotBrowser: Sendable {
    let configurationInForce: ConfigurationInForce
    let drivers: RepositoryDrivers
    /// The snapshot list cache and tree index (`data_dir/snapshots.sqlite`), opened on first use.
    let snapshotCatalog: SnapshotCatalog
    /// Where restores may write: a daemon's stay below `restore.allowed_targets`.
    let restoreScope: RestoreScope
    let now: @Sendable () -> Date

    var configuration: Configuration { configurationInForce.current }

    func driver(forRepository name: String) throws -> any BackupDriver {
        try drivers.driver(forRepository: name)
    }

    /// Page sizes: the default and the most one request may ask for.
    static let defaultPageSize = 100
    static let maxPageSize = 1_000

    // MARK: Lists

    /// This host's snapshots, newest first, of one repository or of every repository (of `backup`, when
    /// given), only those `backup` wrote when given. `refresh` reads the lists from the repositories first.
    /// Of several repositories, one that cannot be read is left out and named in `unreadable`; one asked
    /// for by name throws instead.
    func snapshots(backup: String? = nil, repository: String? = nil, limit: Int = defaultPageSize, cursor: String? = nil, refresh: Bool = false) async throws -> SnapshotPage {
        let limit = try Self.checkedLimit(limit)
        let repositories = try configuration.repositories(ofBackup: backup, chosen: repository.map { [$0] })
        let after = try cursor.map { try PageCursor.decode(SnapshotListCursor.self, from: $0) }
        var readable: [String] = []
        var unreadable: [UnreadableRepository] = []
        for name in repositories {
            do {
                try await ensureSnapshotList(repository: name, force: refresh)
                readable.append(name)
            } catch let error as EngineError where (error.code == .repository || error.code == .conflict) && repository == nil {
                unreadable.append(UnreadableRepository(repository: name, message: error.message))
            }
        }
        let store = try await snapshotCatalog.store()
        let rows = try await store.listPage(repositories: readable, hostname: configuration.hostname, backup: backup, after: after, limit: limit + 1)
        let items = Array(rows.prefix(limit))
        let next = rows.count > limit ? items.last.map {
            PageCursor.encode(SnapshotListCursor(time: SnapshotIndexStore.micros($0.snapshot.time), repository: $0.repository, id: $0.snapshot.id))
        } : nil
        return SnapshotPage(items: items, nextCursor: next, unreadable: unreadable)
    }

    /// How many snapshots of this host a repository holds, and the newest (from the cached list, which is
    /// read from the repository when it is stale).
    func snapshotSummary(repository: String) async throws -> (count: Int, latest: RepositorySnapshot?) {
        let configuration = self.configuration
        guard configuration.repositories[repository] != nil else { throw configuration.unknownRepository(repository) }
        _ = try await ensureSnapshotList(repository: repository, force: false)
        let store = try await snapshotCatalog.store()
        let count = try await store.count(repository: repository, hostname: configuration.hostname)
        let latest = try await store.listPage(repositories: [repository], hostname: configuration.hostname, backup: nil, after: nil, limit: 1).first
        return (count, latest)
    }

    /// One of this host's snapshots by full id, unique prefix (at least 4 hex digits), or `latest`.
    func snapshot(repository: String, id: String) async throws -> RepositorySnapshot {
        let driver = try driver(forRepository: repository)
        let wanted = id.lowercased()
        if wanted == "latest" {
            try await ensureSnapshotList(repository: repository, force: false, driver: driver)
            let newest = try await snapshotCatalog.store().listPage(repositories: [repository], hostname: configuration.hostname, backup: nil, after: nil, limit: 1)
            guard let first = newest.first else {
                throw EngineError(.notFound, "Repository \(repository) has no snapshot of host \(configuration.hostname) yet.")
            }
            return first
        }
        guard wanted.count >= 4, wanted.count <= 64, wanted.allSatisfy(\.isHexDigit) else {
            throw EngineError(.notFound, "Repository \(repository) has no snapshot \(id) of host \(configuration.hostname).")
        }
        let refreshed = try await ensureSnapshotList(repository: repository, force: false, driver: driver)
        let store = try await snapshotCatalog.store()
        var matches = try await store.snapshots(repository: repository, hostname: configuration.hostname, idPrefix: wanted)
        if matches.isEmpty, !refreshed {
            // Made since the cache was filled (by restic run by hand, say): look once more at the repository.
            try await ensureSnapshotList(repository: repository, force: true, driver: driver)
            matches = try await store.snapshots(repository: repository, hostname: configuration.hostname, idPrefix: wanted)
        }
        guard let first = matches.first else {
            throw EngineError(.notFound, "Repository \(repository) has no snapshot \(id) of host \(configuration.hostname).")
        }
        guard matches.count == 1 else {
            throw EngineError(.invalidRequest, "\(id) names several snapshots in repository \(repository); give more of the id.")
        }
        return first
    }

    /// Reads the snapshot list of a repository from its driver into the cache now.
    func refreshSnapshots(repository: String) async throws {
        try await ensureSnapshotList(repository: repository, force: true)
    }

    // MARK: Trees

    /// One level of a directory of a snapshot, sorted by name, `limit` entries after `cursor`. The first
    /// browse of a snapshot indexes its whole tree; later pages come from the index alone.
    func directory(repository: String, snapshot id: String, path: String = "/", limit: Int = defaultPageSize, cursor: String? = nil) async throws -> DirectoryPage {
        let limit = try Self.checkedLimit(limit)
        let directory = try Self.snapshotPath(path)
        let after = try cursor.map { try PageCursor.decode(DirectoryCursor.self, from: $0) }
        let (found, tree) = try await indexedTree(repository: repository, id: id)
        let store = try await snapshotCatalog.store()
        if directory != "/" {
            let node = try await store.node(tree: tree, path: directory)
            guard let node else { throw Self.noPath(directory, found) }
            guard node.kind == .directory else {
                throw EngineError(.invalidRequest, "\(directory) in snapshot \(found.snapshot.shortID) of repository \(repository) is a \(node.kind.rawValue), not a directory.")
            }
        }
        let rows = try await store.children(tree: tree, directory: directory, after: after?.after, limit: limit + 1)
        let items = Array(rows.prefix(limit))
        let next = rows.count > limit ? items.last.map { PageCursor.encode(DirectoryCursor(after: $0.name)) } : nil
        return DirectoryPage(repository: repository, snapshotID: found.snapshot.id, path: directory, items: items, nextCursor: next)
    }

    /// The node at `path` of a snapshot (indexing the snapshot first when needed).
    func node(repository: String, snapshot id: String, path: String) async throws -> Node {
        let inside = try Self.snapshotPath(path)
        let (found, tree) = try await indexedTree(repository: repository, id: id)
        if inside == "/" { return Node(path: "/", name: "/", kind: .directory) }
        guard let node = try await snapshotCatalog.store().node(tree: tree, path: inside) else { throw Self.noPath(inside, found) }
        return node
    }

    // MARK: Download

    /// A file's bytes, or a directory (`/` for the whole snapshot) as a tar stream, read as it is consumed.
    /// The path is checked against the index before anything is read.
    func download(repository: String, snapshot id: String, path: String) async throws -> SnapshotDownload {
        let inside = try Self.snapshotPath(path)
        let (found, tree) = try await indexedTree(repository: repository, id: id)
        let kind: SnapshotDownload.Kind
        let fileName: String
        var size: UInt64?
        if inside == "/" {
            kind = .tar
            fileName = "snapshot-\(found.snapshot.shortID).tar"
        } else {
            guard let node = try await snapshotCatalog.store().node(tree: tree, path: inside) else { throw Self.noPath(inside, found) }
            switch node.kind {
            case .file:
                kind = .file
                fileName = node.name
                size = node.size
            case .directory:
                kind = .tar
                fileName = node.name + ".tar"
            case .symlink, .other:
                throw EngineError(.invalidRequest, "\(inside) in snapshot \(found.snapshot.shortID) of repository \(repository) is a \(node.kind.rawValue) and has no content to download.")
            }
        }
        let driver = try driver(forRepository: repository)
        // `found` is this host's snapshot in the cached list, by full id: the driver need not confirm it.
        let source = driver.dump(snapshot: found.snapshot.id, path: inside, verified: true)
        return SnapshotDownload(kind: kind, fileName: fileName, size: size, bytes: try await StartedStream.start(source, repository: repository))
    }

    /// The checked restore of `paths` (everything when empty) of one of this host's snapshots into `target`:
    /// what ``restore(repository:snapshot:paths:target:trigger:priority:)`` queues and the in-process CLI
    /// runs. The snapshot id is resolved to a full one and every path must be in the snapshot. With the
    /// ``RestoreScope/allowedTargets`` scope (a daemon) the target must lie inside one of
    /// `restore.allowed_targets` once `..` and symbolic links are resolved, and is spelled by its real
    /// location; with ``RestoreScope/anywhere`` (the in-process CLI) any absolute target is taken as given.
    /// The restore checks the target again when it starts.
    func restoreOperation(repository: String, snapshot id: String, paths: [String], target: String) async throws -> JobOperation {
        guard configuration.repositories[repository] != nil else { throw configuration.unknownRepository(repository) }
        let resolvedTarget: String
        switch restoreScope {
        case .allowedTargets:
            resolvedTarget = try RestoreTarget.resolve(target, allowedTargets: configuration.restore.allowedTargets)
        case .anywhere:
            try RestoreTarget.checkSpelling(target)
            resolvedTarget = target
        }
        var includes: [String] = []
        for path in paths {
            includes.append(try Self.snapshotPath(path))
        }
        let (found, tree) = try await indexedTree(repository: repository, id: id)
        let store = try await snapshotCatalog.store()
        for path in includes where path != "/" {
            guard try await store.node(tree: tree, path: path) != nil else { throw Self.noPath(path, found) }
        }
        // `/` is the whole snapshot, which restic restores without any include.
        if includes.contains("/") { includes = [] }
        return .restore(repository: repository, snapshot: found.snapshot.id, target: resolvedTarget, includes: includes)
    }

    // MARK: Helpers

    /// Fills or refreshes the cached list of a repository when it is stale, missing or `force`d; true when
    /// it read the repository.
    @discardableResult
    func ensureSnapshotList(repository: String, force: Bool, driver existing: (any BackupDriver)? = nil) async throws -> Bool {
        let store = try await snapshotCatalog.store()
        if !force, try await store.isListFresh(repository: repository, hostname: configuration.hostname) { return false }
        let driver = try existing ?? driver(forRepository: repository)
        do {
            try await snapshotCatalog.refreshList(repository: repository, hostname: configuration.hostname, driver: driver, now: now())
        } catch {
            throw Self.engineError(error, repository: repository)
        }
        return true
    }

    /// A snapshot of this host and the key of its complete tree index.
    private func indexedTree(repository: String, id: String) async throws -> (RepositorySnapshot, Int64) {
        let found = try await snapshot(repository: repository, id: id)
        let driver = try driver(forRepository: repository)
        do {
            let tree = try await snapshotCatalog.tree(repository: repository, snapshotID: found.snapshot.id, driver: driver, now: now())
            return (found, tree)
        } catch {
            throw Self.engineError(error, repository: repository)
        }
    }

    static func checkedLimit(_ limit: Int) throws -> Int {
        guard (1...maxPageSize).contains(limit) else {
            throw EngineError(.invalidRequest, "The page size \(limit) is out of range; use 1 to \(maxPageSize).")
        }
        return limit
    }

    static func snapshotPath(_ path: String) throws -> String {
        try PathText.refuseNUL(path, "The path")
        guard let normalized = SnapshotPath.normalize(path) else {
            throw EngineError(.invalidRequest, "The path \(path) must be absolute inside the snapshot and must not climb with \"..\".")
        }
        return normalized
    }

    static func noPath(_ path: String, _ found: RepositorySnapshot) -> EngineError {
        EngineError(.notFound, "Snapshot \(found.snapshot.shortID) of repository \(found.repository) has no path \(path).")
    }

    /// A driver's failure as the engine's error: missing things are `notFound`, a lock a `conflict`.
    static func engineError(_ error: any Error, repository: String) -> any Error {
        guard let error = error as? DriverError else { return error }
        let message = error.message.contains(repository) ? error.message : "Repository \(repository): \(error.message)"
        switch error.code {
        case .snapshotNotFound, .pathNotFound: return EngineError(.notFound, message)
        case .invalidRequest: return EngineError(.invalidRequest, message)
        case .repositoryLocked: return EngineError(.conflict, message)
        case .cancelled: return CancellationError()
        default: return EngineError(.repository, message)
        }
    }
}
