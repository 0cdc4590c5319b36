import Foundation
import HenDrivers

/// An in-memory driver that does what its ``FakeBackend`` says and records every call.
struct FakeDriver: BackupDriver {
    let backend: FakeBackend
    let target: RepositoryTarget
    let context: DriverContext
    let capabilities: DriverCapabilities

    /// Its processes would carry the cache directory, as restic's do (for the start-up recovery tests).
    var leftoverProcesses: LeftoverProcessPattern? {
        context.cacheDirectory.map { LeftoverProcessPattern(argument: "--cache-dir", value: $0, program: "hen-fake-driver") }
    }

    private func call(_ operation: String) -> FakeBackend.Call {
        // The limits the driver was built with (a backup's request carries its own).
        FakeBackend.Call(repository: target.name, operation: operation, limits: target.limits, hostname: context.hostname)
    }

    func isInitialized() async throws -> Bool {
        let call = call("isInitialized")
        try await backend.enter(call)
        return backend.isInitialized(target.name)
    }

    func initialize(events: DriverEventHandler) async throws -> InitializeResult {
        let call = call("initialize")
        try await backend.enter(call)
        defer { backend.leave(call) }
        return backend.initialize(target.name) ? .created : .alreadyInitialized
    }

    func backup(_ request: BackupRequest, events: DriverEventHandler) async throws -> BackupSummary {
        var call = call("backup")
        call.tags = request.tags
        call.paths = request.paths
        call.limits = request.limits
        guard backend.isInitialized(target.name) else {
            throw DriverError(.repositoryMissing, "Repository \(target.name) does not exist.", repository: target.name)
        }
        let reports = backend.progressReports
        for index in 0..<reports {
            events(.progress(Progress(fraction: Double(index + 1) / Double(reports), filesDone: UInt64(index + 1))))
        }
        events(.log(level: .info, message: "backing up \(request.paths.joined(separator: ", "))"))
        try await backend.enter(call)
        defer { backend.leave(call) }
        let warnings = backend.backupWarnings
        for warning in warnings { events(.warning(warning)) }
        return BackupSummary(snapshotID: backend.nextSnapshotID(), filesNew: 3, filesChanged: 1, filesUnmodified: 10, dataAdded: 2048, totalFilesProcessed: 14, totalBytesProcessed: 4096, warnings: warnings)
    }

    func snapshots(_ filter: SnapshotFilter) -> AsyncThrowingStream<Snapshot, any Error> {
        AsyncThrowingStream { $0.finish() }
    }

    func list(snapshot: String, path: String?) -> AsyncThrowingStream<Node, any Error> {
        AsyncThrowingStream { $0.finish() }
    }

    func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary {
        let call = call("restore")
        for (path, text) in backend.restoreFiles.sorted(by: { $0.key < $1.key }) {
            let file = request.target + "/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: false, encoding: .utf8)
        }
        try await backend.enter(call)
        defer { backend.leave(call) }
        return RestoreSummary(filesRestored: 2, bytesRestored: 10)
    }

    func dump(snapshot: String, path: String) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { $0.finish() }
    }

    func forget(_ request: ForgetRequest, events: DriverEventHandler) async throws -> ForgetSummary {
        guard backend.isInitialized(target.name) else {
            throw DriverError(.repositoryMissing, "Repository \(target.name) does not exist.", repository: target.name)
        }
        var call = call("forget")
        call.tags = request.tags
        call.forget = request
        try await backend.enter(call)
        defer { backend.leave(call) }
        return ForgetSummary(kept: ["a"], removed: ["b", "c"], pruned: request.prune)
    }

    func check(_ request: CheckRequest, events: DriverEventHandler) async throws -> CheckSummary {
        guard backend.isInitialized(target.name) else {
            throw DriverError(.repositoryMissing, "Repository \(target.name) does not exist.", repository: target.name)
        }
        var call = call("check")
        call.readDataSubset = request.readDataSubset
        try await backend.enter(call)
        defer { backend.leave(call) }
        return CheckSummary()
    }

    func stats() async throws -> RepositoryStats { RepositoryStats() }

    func unlock(events: DriverEventHandler) async throws {
        let call = call("unlock")
        try await backend.enter(call)
        backend.leave(call)
    }
}
