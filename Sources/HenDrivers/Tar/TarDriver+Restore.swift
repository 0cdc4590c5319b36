import Foundation

extension TarDriver {
    /// Extracts the snapshot (or the subtrees named by `request.includes`) below `request.target` with
    /// GNU tar, which restores modes, owners (as root) and modification times, directories' last.
    public func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary {
        try await requireInitialized()
        let header = try resolveSnapshot(request.snapshot)
        guard request.target.hasPrefix("/") else {
            throw failure(.invalidRequest, "The restore target \(request.target) for tar repository \(repository.name) is not an absolute path.")
        }
        let includes = Array(Set(request.includes.map(ExcludeMatcher.clean)))
        let restoreAll = includes.isEmpty || includes.contains("/")

        // One pass over the manifest: every include must exist, and the totals feed the summary.
        var found: Set<String> = []
        var files: UInt64 = 0
        var bytes: UInt64 = 0
        do {
            guard let reader = try LineFileReader(path: manifestPath(header.id)) else {
                throw failure(.snapshotNotFound, "Tar repository \(repository.name) has no snapshot \(request.snapshot).")
            }
            _ = try reader.nextLine()
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let entry = try TarManifest.decode(TarManifest.Entry.self, from: line)
                var selected = restoreAll
                for include in includes where Self.isInside(entry.path, include) {
                    selected = true
                    if entry.path == include { found.insert(include) }
                }
                if selected, entry.nodeKind == .file {
                    files += 1
                    bytes += entry.size ?? 0
                }
            }
        } catch let error as DriverError {
            throw error
        } catch {
            throw failure(.failed, "The manifest of snapshot \(header.id.prefix(8)) in tar repository \(repository.name) is unreadable: \(error).")
        }
        if !restoreAll, let missing = includes.sorted().first(where: { !found.contains($0) }) {
            throw failure(.pathNotFound, "Snapshot \(header.id.prefix(8)) in tar repository \(repository.name) has no path \(missing).")
        }

        do {
            try FileManager.default.createDirectory(atPath: request.target, withIntermediateDirectories: true)
        } catch {
            throw failure(.invalidRequest, "The restore target \(request.target) cannot be created: \(error.localizedDescription)")
        }
        var arguments = [
            "--extract", "--gzip", "--file", archivePath(header.id), "--directory", request.target,
            "--preserve-permissions", "--numeric-owner", "--no-wildcards",
        ]
        if !restoreAll {
            arguments.append("--")
            arguments.append(contentsOf: includes.sorted().map { String($0.dropFirst()) })
        }
        events(.progress(Progress(fraction: 0, filesDone: 0, totalFiles: files, bytesDone: 0, totalBytes: bytes)))
        do {
            try await tools.run(tools.tar, arguments)
        } catch {
            throw toolFailure(error, operation: "restore")
        }
        events(.progress(Progress(fraction: 1, filesDone: files, totalFiles: files, bytesDone: bytes, totalBytes: bytes)))
        return RestoreSummary(filesRestored: files, bytesRestored: bytes)
    }
}
