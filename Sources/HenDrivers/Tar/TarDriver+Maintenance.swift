import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension TarDriver {
    /// Removes snapshots (manifest first, so a snapshot disappears at once, then its archive). Archives
    /// are deleted here, so `prune` has nothing left to do and is reported as done.
    public func forget(_ request: ForgetRequest, events: DriverEventHandler) async throws -> ForgetSummary {
        try await requireInitialized()
        let lock = try TarRepositoryLock.acquire(directory: locksDirectory, operation: "forget", repository: repository.name)
        defer { TarRepositoryLock.release(lock) }

        var summary = ForgetSummary(pruned: request.prune)
        var remove: [String] = []
        switch request.selection {
        case .snapshots(let ids):
            guard !ids.isEmpty else {
                throw failure(.invalidRequest, "Forgetting in tar repository \(repository.name) needs at least one snapshot id.")
            }
            for id in ids {
                let header = try resolveSnapshot(id)
                guard request.tags.allSatisfy(header.tags.contains) else {
                    throw failure(.snapshotNotFound, "Tar repository \(repository.name) has no snapshot \(id) of host \(context.hostname) tagged \(request.tags.joined(separator: ",")).")
                }
                if !remove.contains(header.id) { remove.append(header.id) }
            }
        case .policy(let policy):
            guard !RetentionPlanner.isEmpty(policy) else {
                throw failure(.invalidRequest, "The retention policy for tar repository \(repository.name) keeps nothing; set at least one keep rule.")
            }
            let candidates = try snapshotHeaders()
                .filter { header in request.tags.allSatisfy(header.tags.contains) }
                .compactMap(\.snapshot)
            let plan = RetentionPlanner(policy: policy).plan(candidates)
            summary.kept = plan.keep.map(\.id)
            remove = plan.remove.map(\.id)
        }

        for id in remove {
            if Task.isCancelled { throw cancelled("forget") }
            if unlink(manifestPath(id)) != 0, errno != ENOENT {
                throw failure(.failed, "Snapshot \(id.prefix(8)) in tar repository \(repository.name) could not be removed: \(String(cString: strerror(errno))).")
            }
            unlink(archivePath(id))
            summary.removed.append(id)
            events(.log(level: .info, message: "removed snapshot \(id.prefix(8))"))
        }
        try? Self.fsync(path: snapshotsDirectory)
        return summary
    }

    /// Reads archives back and compares every member with its manifest line (path, kind, size, SHA-256).
    /// Without `readDataSubset` every snapshot of this host is read; `N%`, `n/m` and a size (`500M`) pick
    /// a subset of snapshots. Leftovers in `tmp/` and archives without a manifest are warnings.
    public func check(_ request: CheckRequest, events: DriverEventHandler) async throws -> CheckSummary {
        try await requireInitialized()
        var summary = CheckSummary()
        let headers = try snapshotHeaders()
        let selected = try subset(headers, request.readDataSubset)

        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshotsDirectory)) ?? []
        for name in names where name.hasSuffix(".manifest.jsonl") {
            let id = String(name.dropLast(".manifest.jsonl".count))
            guard let header = try? readHeader(path: snapshotsDirectory + "/" + name), header.id == id,
                  TarManifest.parseTime(header.time) != nil
            else {
                summary.errors.append("snapshots/\(name) is not a readable snapshot manifest")
                continue
            }
        }
        for name in names where name.hasSuffix(".tar.gz") {
            let id = String(name.dropLast(".tar.gz".count))
            if !FileManager.default.fileExists(atPath: manifestPath(id)) {
                summary.warnings.append("snapshots/\(name) has no manifest (left over from an interrupted forget); it can be deleted")
            }
        }
        let locked = FileManager.default.fileExists(atPath: locksDirectory + "/" + TarRepositoryLock.fileName)
        if !locked, let leftovers = try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), !leftovers.isEmpty {
            summary.warnings.append("tmp/ holds \(leftovers.count) leftover file(s) from interrupted operations")
        }

        for (index, header) in selected.enumerated() {
            if Task.isCancelled { throw cancelled("check") }
            events(.progress(Progress(
                fraction: Double(index) / Double(max(1, selected.count)),
                filesDone: UInt64(index), totalFiles: UInt64(selected.count), currentFiles: [header.id]
            )))
            summary.errors.append(contentsOf: try await verify(header.id))
        }
        events(.progress(Progress(fraction: 1, filesDone: UInt64(selected.count), totalFiles: UInt64(selected.count))))
        return summary
    }

    /// The problems found in one snapshot's archive, one sentence each.
    private func verify(_ id: String) async throws -> [String] {
        let label = "snapshot \(id.prefix(8))"
        guard FileManager.default.fileExists(atPath: archivePath(id)) else {
            return ["\(label): the archive snapshots/\(id).tar.gz is missing"]
        }
        guard let manifest = try? LineFileReader(path: manifestPath(id)) else {
            return ["\(label): the manifest cannot be opened"]
        }
        var errors: [String] = []
        func note(_ message: String) {
            if errors.count < 100 { errors.append("\(label): \(message)") }
        }
        do {
            _ = try manifest.nextLine()
            let archive = ArchiveReader(driver: self, snapshotID: id)
            var expected: TarManifest.Entry?
            var hash = SHA256()
            var size: UInt64 = 0
            var sawEnd = false
            reading: while let events = try await archive.nextEvents() {
                for event in events {
                    switch event {
                    case .entry(let entry):
                        if Task.isCancelled { throw cancelled("check") }
                        var line = try manifest.nextLine()
                        while line?.isEmpty == true { line = try manifest.nextLine() }
                        guard let line else {
                            note("the archive holds \(entry.snapshotPath), which the manifest does not list")
                            expected = nil
                            continue
                        }
                        let listed = try TarManifest.decode(TarManifest.Entry.self, from: line)
                        expected = listed
                        hash = SHA256()
                        size = 0
                        if listed.path != entry.snapshotPath {
                            note("the archive holds \(entry.snapshotPath) where the manifest lists \(listed.path)")
                        } else if TarManifest.Entry(header: entry, sha256: nil).kind != listed.kind {
                            note("\(listed.path) is a \(listed.kind) in the manifest but not in the archive")
                        }
                    case .data(let bytes):
                        hash.update(bytes)
                        size += UInt64(bytes.count)
                    case .entryEnd:
                        guard let listed = expected, listed.nodeKind == .file else { continue }
                        if size != listed.size ?? 0 {
                            note("\(listed.path) has \(size) bytes in the archive, \(listed.size ?? 0) in the manifest")
                        } else if hash.finalizeHex() != listed.sha256 {
                            note("\(listed.path) does not match its SHA-256 checksum")
                        }
                        expected = nil
                    case .end:
                        sawEnd = true
                        break reading
                    }
                }
            }
            if !sawEnd { note("the archive is truncated") }
            var rest = 0
            while let line = try manifest.nextLine() { if !line.isEmpty { rest += 1 } }
            if rest > 0 { note("\(rest) manifest entries are missing from the archive") }
        } catch let error as DriverError where error.code == .checkFailed {
            note(error.message)
        } catch let error as DriverError {
            throw error
        } catch {
            note("the manifest is unreadable (\(error))")
        }
        return errors
    }

    private func subset(_ headers: [TarManifest.Header], _ spec: String?) throws -> [TarManifest.Header] {
        guard let spec = spec?.trimmingCharacters(in: .whitespaces), !spec.isEmpty else { return headers }
        let invalid = failure(.invalidRequest, "The read-data subset \"\(spec)\" for tar repository \(repository.name) is not N%, n/m or a size such as 500M.")
        if spec.hasSuffix("%") {
            guard let percent = Double(spec.dropLast()), percent > 0, percent <= 100 else { throw invalid }
            let count = Int((Double(headers.count) * percent / 100).rounded(.up))
            return Array(headers.shuffled().prefix(count)).sorted { $0.time < $1.time }
        }
        if let slash = spec.firstIndex(of: "/") {
            guard let n = Int(spec[..<slash]), let m = Int(spec[spec.index(after: slash)...]), m > 0, n >= 1, n <= m else { throw invalid }
            return headers.enumerated().filter { $0.offset % m == n - 1 }.map(\.element)
        }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(spec)
        var multiplier: UInt64 = 1
        if let unit = digits.last.flatMap({ units[Character($0.uppercased())] }) {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard let amount = UInt64(digits), amount > 0 else { throw invalid }
        var budget = amount.multipliedReportingOverflow(by: multiplier).overflow ? UInt64.max : amount * multiplier
        var picked: [TarManifest.Header] = []
        for header in headers.shuffled() where budget > 0 {
            picked.append(header)
            let size = Self.fileSize(archivePath(header.id))
            budget = size >= budget ? 0 : budget - size
        }
        return picked.sorted { $0.time < $1.time }
    }

    /// Sizes of this host's snapshots: archive and manifest bytes, snapshot count, and the number of files
    /// they hold (counted from the manifests).
    public func stats() async throws -> RepositoryStats {
        try await requireInitialized()
        var size: UInt64 = 0
        var files: UInt64 = 0
        let headers = try snapshotHeaders()
        for header in headers {
            size += Self.fileSize(archivePath(header.id)) + Self.fileSize(manifestPath(header.id))
            guard let reader = try? LineFileReader(path: manifestPath(header.id)) else { continue }
            _ = try? reader.nextLine()
            // Cheap count: a file's line is the only kind that carries a checksum.
            while let line = try? reader.nextLine() {
                if line.count > 8, String(decoding: line, as: UTF8.self).contains("\"sha256\":") { files += 1 }
            }
        }
        return RepositoryStats(totalSize: size, totalFileCount: files, snapshotCount: UInt64(headers.count))
    }

    /// Removes locks whose process, on this machine, is gone. A live lock, or one from another machine,
    /// stays and is reported.
    public func unlock(events: DriverEventHandler) async throws {
        try await requireInitialized()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: locksDirectory)) ?? []
        for name in names {
            let path = locksDirectory + "/" + name
            guard let lock = TarRepositoryLock.read(path: path) else { continue }
            if lock.isStale {
                unlink(path)
                events(.log(level: .info, message: "removed the stale lock of process \(lock.pid) (\(lock.operation) since \(lock.time))"))
            } else {
                events(.log(level: .info, message: "kept the lock of live process \(lock.pid) on \(lock.machine) (\(lock.operation))"))
            }
        }
    }
}
