import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension TarDriver {
    /// Writes a full archive of `request.paths`. `request.limits` are ignored (see ``TarDriver``).
    public func backup(_ request: BackupRequest, events: DriverEventHandler) async throws -> BackupSummary {
        try await requireInitialized()
        let started = Date()
        let roots = try backupRoots(request.paths)
        let matcher: ExcludeMatcher
        do {
            matcher = try ExcludeMatcher(patterns: request.excludes)
        } catch {
            throw failure(.invalidRequest, "The backup to tar repository \(repository.name) has an invalid exclude pattern: \(error.message)")
        }
        if request.limits != TransferLimits() || repository.limits != TransferLimits() {
            events(.log(level: .info, message: "the tar driver does not support transfer limits; they are ignored"))
        }

        let lock = try TarRepositoryLock.acquire(directory: locksDirectory, operation: "backup", repository: repository.name)
        defer { TarRepositoryLock.release(lock) }

        let id = Self.randomHex(32)
        let tarPath = temporaryDirectory + "/\(id).tar"
        let gzipPath = tarPath + ".gz"
        let manifestStaging = temporaryDirectory + "/\(id).manifest.jsonl"
        defer {
            // After a successful rename these are gone already; after a failure nothing half-written stays.
            unlink(tarPath)
            unlink(gzipPath)
            unlink(manifestStaging)
        }

        let header = TarManifest.Header(
            id: id, time: TarManifest.formatTime(started), host: context.hostname,
            tags: request.tags, paths: roots
        )
        let writer: TarSnapshotWriter
        do {
            writer = try TarSnapshotWriter(archivePath: tarPath, manifestPath: manifestStaging, header: header, matcher: matcher)
            for root in roots {
                guard try writer.add(root: root, events: events) else { throw cancelled("backup") }
            }
            try writer.finish()
        } catch let error as DriverError {
            throw error
        } catch is CancellationError {
            throw cancelled("backup")
        } catch {
            throw failure(.failed, "The backup to tar repository \(repository.name) could not write its archive: \(error).")
        }

        do {
            try await tools.run(tools.gzip, ["-n", "-f", "--", tarPath])
        } catch {
            throw toolFailure(error, operation: "backup")
        }
        if Task.isCancelled { throw cancelled("backup") }

        do {
            try Self.fsync(path: gzipPath)
            try Self.rename(gzipPath, archivePath(id))
            try Self.rename(manifestStaging, manifestPath(id))
            try? Self.fsync(path: snapshotsDirectory)
        } catch {
            unlink(archivePath(id))
            throw failure(.failed, "The backup to tar repository \(repository.name) could not store its snapshot: \(error).")
        }

        let archiveSize = Self.fileSize(archivePath(id))
        let manifestSize = Self.fileSize(manifestPath(id))
        return BackupSummary(
            snapshotID: id,
            filesNew: writer.files,
            dirsNew: writer.directories,
            dataAdded: archiveSize + manifestSize,
            totalFilesProcessed: writer.files,
            totalBytesProcessed: writer.bytes,
            duration: Date().timeIntervalSince(started),
            warnings: writer.warnings
        )
    }

    /// Absolute, cleaned, existing paths; a path inside another given path is dropped (it is included).
    private func backupRoots(_ paths: [String]) throws -> [String] {
        guard !paths.isEmpty else {
            throw failure(.invalidRequest, "A backup to tar repository \(repository.name) needs at least one path.")
        }
        var roots: [String] = []
        for path in paths {
            guard path.hasPrefix("/") else {
                throw failure(.invalidRequest, "The backup path \(path) for tar repository \(repository.name) is not absolute.")
            }
            let clean = ExcludeMatcher.clean(path)
            var info = stat()
            guard lstat(clean, &info) == 0 else {
                throw failure(.sourceMissing, "The backup path \(clean) for tar repository \(repository.name) does not exist.")
            }
            roots.append(clean)
        }
        roots = Array(Set(roots)).sorted()
        return roots.filter { root in
            !roots.contains { other in other != root && (other == "/" || root.hasPrefix(other + "/")) }
        }
    }

    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFailure(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw POSIXFailure(operation: "fsync", path: path, errno: errno) }
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw POSIXFailure(operation: "rename", path: to, errno: errno) }
    }

    static func fileSize(_ path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(max(0, info.st_size)) : 0
    }
}
