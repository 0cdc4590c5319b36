import Foundation

/// A backup engine behind one repository: restic, tar, or a plugin.
///
/// A driver is built for one repository (``RepositoryTarget``) and one ``DriverContext`` by the
/// ``DriverRegistry``. Every operation is confined to `context.hostname`: snapshots of other hosts are
/// never listed, read, restored or forgotten, and every backup carries that host.
///
/// Contract for long operations (`backup`, `restore`, `forget`, `check`, `initialize`, `unlock`):
/// - they report what happens through `events` while they run and return a summary;
/// - when the calling task is cancelled, the driver stops its work cleanly (a child process gets SIGINT
///   and its output is drained until it exits, SIGKILL only after a grace period) and *then* throws a
///   ``DriverError`` with code `.cancelled`. When the call returns, nothing it started is still running.
///
/// Streams (`snapshots`, `list`, `dump`) are produced incrementally and never collected whole; a consumer
/// that stops iterating early makes the driver stop its work the same clean way.
///
/// Errors thrown or finishing a stream are ``DriverError``s.
public protocol BackupDriver: Sendable {
    /// What this driver can do, so that the engine and the UI can adapt.
    var capabilities: DriverCapabilities { get }

    /// Whether the repository exists and can be opened with the configured credentials.
    /// Throws `.wrongPassword`, `.backendUnreachable`, … when it cannot tell.
    func isInitialized() async throws -> Bool

    /// Creates the repository. Idempotent: an existing repository is `.alreadyInitialized`.
    func initialize(events: DriverEventHandler) async throws -> InitializeResult

    /// Backs up `request.paths` into a new snapshot tagged with `request.tags` and the context's host.
    func backup(_ request: BackupRequest, events: DriverEventHandler) async throws -> BackupSummary

    /// This host's snapshots, oldest first, filtered by `filter`.
    func snapshots(_ filter: SnapshotFilter) -> AsyncThrowingStream<Snapshot, any Error>

    /// The nodes of one snapshot below `path` (the whole snapshot when nil), recursively, in the
    /// driver's order. `path` itself is included when it names a node.
    func list(snapshot: String, path: String?) -> AsyncThrowingStream<Node, any Error>

    /// Restores `request.includes` (everything when empty) of a snapshot below `request.target`.
    func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary

    /// The bytes of one file, or a tar stream of a directory.
    func dump(snapshot: String, path: String) -> AsyncThrowingStream<[UInt8], any Error>

    /// ``dump(snapshot:path:)`` of a snapshot the caller has `verified` to be this host's, by its full id
    /// (the engine's snapshot cache): a driver may then skip confirming it (restic: no `restic snapshots`
    /// before the `restic dump`). The default ignores `verified`.
    func dump(snapshot: String, path: String, verified: Bool) -> AsyncThrowingStream<[UInt8], any Error>

    /// Forgets snapshots by id or by retention policy, limited to this host and `request.tags`.
    func forget(_ request: ForgetRequest, events: DriverEventHandler) async throws -> ForgetSummary

    /// Verifies the repository's structure, and reads back `request.readDataSubset` of the data.
    func check(_ request: CheckRequest, events: DriverEventHandler) async throws -> CheckSummary

    /// Sizes and counts of the repository.
    func stats() async throws -> RepositoryStats

    /// Removes stale locks only; a lock held by a live process stays.
    func unlock(events: DriverEventHandler) async throws

    /// What changed from snapshot `older` to snapshot `newer` (ids of this host's snapshots), streamed:
    /// every added, removed and modified path, then at most one `.statistics`. Only for drivers with the
    /// `.diff` capability; the default throws `.unsupported` (below).
    func diff(from older: String, to newer: String) -> AsyncThrowingStream<SnapshotDiffItem, any Error>

    /// Checks that the programs this driver runs can be run, before any job needs them (`config check`,
    /// the daemon's start), and describes each as found ("restic 0.14.0 (/usr/bin/restic)"). Throws
    /// `.binaryMissing` in one sentence when one cannot be run or is older than the driver supports.
    func verifyPrograms() async throws -> [String]

    /// How to recognise the processes of this driver that a daemon killed with `kill -9` may have left
    /// running or unreaped, for start-up to stop them and wait for them before it unlocks repositories
    /// (a live one holds its lock alive); nil when its processes die with the daemon and hold nothing.
    var leftoverProcesses: LeftoverProcessPattern? { get }
}

/// A driver's processes as start-up finds them after a crash: the live ones by an argument and its value
/// on their command line (restic's `--cache-dir <data_dir>/cache`, which only this data directory's
/// processes carry), the dead but unreaped ones by their program's name (a zombie's command line is gone).
public struct LeftoverProcessPattern: Sendable, Hashable {
    public var argument: String
    public var value: String
    /// The program's file name, as the kernel names its processes.
    public var program: String

    public init(argument: String, value: String, program: String) {
        self.argument = argument
        self.value = value
        self.program = program
    }
}

extension BackupDriver {
    public func dump(snapshot: String, path: String, verified: Bool) -> AsyncThrowingStream<[UInt8], any Error> {
        dump(snapshot: snapshot, path: path)
    }

    /// A driver that runs no program of its own has nothing to verify.
    public func verifyPrograms() async throws -> [String] { [] }

    /// A driver whose processes hold nothing when the daemon dies leaves nothing to stop.
    public var leftoverProcesses: LeftoverProcessPattern? { nil }

    public func initialize() async throws -> InitializeResult {
        try await initialize(events: { _ in })
    }
    public func backup(_ request: BackupRequest) async throws -> BackupSummary {
        try await backup(request, events: { _ in })
    }
    public func restore(_ request: RestoreRequest) async throws -> RestoreSummary {
        try await restore(request, events: { _ in })
    }
    public func forget(_ request: ForgetRequest) async throws -> ForgetSummary {
        try await forget(request, events: { _ in })
    }
    public func check(_ request: CheckRequest) async throws -> CheckSummary {
        try await check(request, events: { _ in })
    }
    public func unlock() async throws {
        try await unlock(events: { _ in })
    }
}

extension BackupDriver {
    /// A driver without the `.diff` capability has no comparison of its own: the engine compares the
    /// two snapshots' trees from its index instead.
    public func diff(from older: String, to newer: String) -> AsyncThrowingStream<SnapshotDiffItem, any Error> {
        AsyncThrowingStream { continuation in
            continuation.finish(throwing: DriverError(.unsupported, "This driver cannot compare two snapshots itself."))
        }
    }
}
