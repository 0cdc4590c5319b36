import Foundation
import HenProcess

/// Drives the `restic` binary for one repository, confined to the context's host.
///
/// restic 0.14 (Debian 12) is the floor; `restic version` is read once per executable and newer features
/// are used where present (`--retry-lock`, exit codes 10/11/12). Secrets reach restic through its
/// environment only, and are redacted from everything it prints. A lock that makes an operation fail is
/// handled once with `restic unlock` (which removes stale locks only) before the operation is retried.
public struct ResticDriver: BackupDriver {
    public let repository: RepositoryTarget
    public let context: DriverContext
    /// The restic executable: `executables.restic` from the configuration, or `restic` from PATH.
    let executable: String

    public init(repository: RepositoryTarget, context: DriverContext) throws {
        guard !repository.location.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \"\(repository.name)\" has no location.", repository: repository.name)
        }
        guard !context.hostname.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \"\(repository.name)\": the hostname is empty.", repository: repository.name)
        }
        self.repository = repository
        self.context = context
        self.executable = context.executables["restic"] ?? "restic"
    }

    /// An encrypted repository at any restic location (a local path, `local:`, or a remote backend).
    public static let description = DriverDescription(
        name: "restic",
        capabilities: [.encrypted, .concurrentBackups, .bandwidthLimits, .deduplication, .readDataSubset, .locks, .diff],
        password: .required,
        location: .init(remotePrefixes: ["sftp:", "rest:", "s3:", "b2:", "azure:", "gs:", "swift:", "rclone:"], localPrefix: "local:"),
        keys: [.env, .limits, .passwordCommand]
    )

    public var capabilities: DriverCapabilities { Self.description.capabilities }

    /// restic runs with `--cache-dir <cache>`: that names this data directory's restic processes. Its lock
    /// lives as long as its process, even a zombie one.
    public var leftoverProcesses: LeftoverProcessPattern? {
        context.cacheDirectory.map {
            LeftoverProcessPattern(argument: "--cache-dir", value: $0, program: (executable as NSString).lastPathComponent)
        }
    }

    // MARK: Repository

    public func isInitialized() async throws -> Bool {
        do {
            _ = try await runToCompletion(["cat", "config"], operation: "cat config", events: { _ in }, handlesLocks: false)
            return true
        } catch {
            if error.code == .repositoryMissing { return false }
            throw error
        }
    }

    public func initialize(events: DriverEventHandler) async throws -> InitializeResult {
        if try await isInitialized() { return .alreadyInitialized }
        do {
            _ = try await runToCompletion(["init"], operation: "init", events: events, handlesLocks: false)
            return .created
        } catch {
            // Someone else created it between our check and our init.
            let detail = error.detail ?? ""
            if detail.contains("already exists") || detail.contains("already initialized") { return .alreadyInitialized }
            throw error
        }
    }

    public func unlock(events: DriverEventHandler) async throws {
        _ = try await runToCompletion(["unlock"], operation: "unlock", events: events, handlesLocks: false)
    }

    public func stats() async throws -> RepositoryStats {
        var output: String?
        _ = try await runToCompletion(
            ["stats", "--json", "--mode", "raw-data"],
            operation: "stats",
            events: { _ in },
            beforeAttempt: { output = nil },
            onLine: { line in
                if case .stdout(let text) = line, text.first == "{" { output = text }
            }
        )
        guard let output, let stats = try? ResticJSON.decoder().decode(ResticStats.self, from: Data(output.utf8)) else {
            throw failure(.failed, "Repository \"\(repository.name)\": restic stats printed no statistics.")
        }
        // The size is the repository's; the snapshot count is this host's (other hosts stay invisible).
        var count: UInt64 = 0
        for try await _ in snapshots(SnapshotFilter()) { count += 1 }
        if Task.isCancelled { throw cancelled("snapshots") }
        return RepositoryStats(
            totalSize: stats.totalSize,
            totalFileCount: (stats.totalFileCount ?? 0) > 0 ? stats.totalFileCount : nil,
            snapshotCount: count
        )
    }
}
