import Foundation
import HenDrivers
#if canImport(Glibc)
import Glibc
#endif

/// One repository's restore drill: the backup's latest snapshot there, a sample of its files restored with
/// the driver into a private directory below `data_dir/drills/`, each compared byte for byte with its
/// source when the source is unchanged since the snapshot (same size and modification time). The private
/// directory is removed however the drill ends.
struct RestoreDrill {
    var backup: Configuration.Backup
    var repository: String
    var jobID: String
    /// When the job was queued: paths drilled before this count as drilled (the sample is repeatable).
    var queuedAt: Date
    var dataDirectory: String
    var store: JobStore?
    var now: @Sendable () -> Date

    /// Includes per restore call: a command line stays well below the kernel's limit.
    static let restoreBatch = 200
    /// Where drills restore; a daemon removes what a crash left here when it starts.
    static func drillsDirectory(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("drills")
    }

    /// Runs the drill; a file that differs is in the result (`differed`, `differedPaths`), not an error.
    func run(driver: any BackupDriver, events: @escaping DriverEventHandler) async throws -> DrillResult? {
        var latest: Snapshot?
        for try await snapshot in driver.snapshots(SnapshotFilter(tags: [SnapshotTag.backup(backup.name)])) {
            if latest.map({ snapshot.time >= $0.time }) ?? true { latest = snapshot }
        }
        try Task.checkCancellation()
        guard let snapshot = latest else { return nil }

        let drilled = (try? await store?.drilledPaths(backup: backup.name, repository: repository, before: queuedAt)) ?? []
        let sampleSize: Int
        switch backup.drill?.sample ?? .count(Configuration.Backup.Drill.defaultSample) {
        case .count(let count):
            sampleSize = count
        case .percent(let percent):
            var files = 0
            for try await node in driver.list(snapshot: snapshot.id, path: nil) where node.kind == .file { files += 1 }
            sampleSize = Int((Double(files) * percent / 100).rounded(.up))
        }
        var sample = DrillSample(seed: jobID, size: sampleSize, drilled: drilled)
        for try await node in driver.list(snapshot: snapshot.id, path: nil) { sample.offer(node) }
        try Task.checkCancellation()
        let files = sample.finish(maxBytes: backup.drill?.maxBytes)
        var result = DrillResult(snapshotID: snapshot.id, sampled: files.count)
        guard !files.isEmpty else { return result }
        events(.log(level: .info, message: "Drilling \(files.count) files of snapshot \(snapshot.shortID) (\(files.count - files.filter { drilled.contains($0.path) }.count) never drilled before)."))

        // Which sources are unchanged, judged before anything is restored: the comparison is only fair for
        // those. Reading the sources, like the restore, is at the backup's priority (NicedThread).
        let unchanged = await NicedThread.run("hen-drill-stat", niceness: backup.nice) { _ in
            Set(files.filter(Self.sourceIsUnchanged).map(\.path))
        }
        try Task.checkCancellation()
        let directory = try Self.makePrivateDirectory(in: Self.drillsDirectory(dataDirectory: dataDirectory), name: "\(jobID)-\(Self.safeName(repository))")
        defer { Self.remove(directory) }
        var start = 0
        while start < files.count {
            try Task.checkCancellation()
            let batch = files[start..<min(start + Self.restoreBatch, files.count)]
            _ = try await driver.restore(RestoreRequest(snapshot: snapshot.id, target: directory, includes: batch.map(\.path), includesAreListedPaths: true), events: events)
            start += batch.count
        }
        let (compared, counted) = await NicedThread.run("hen-drill-compare", niceness: backup.nice) { [result] isCancelled in
            Self.compare(files, unchanged: unchanged, restoredBelow: directory, into: result, isCancelled: isCancelled)
        }
        try Task.checkCancellation()
        result = counted
        do {
            try await store?.recordDrilled(backup: backup.name, repository: repository, paths: compared, at: now())
        } catch {
            events(.warning("What this drill compared could not be recorded, so the next drill may pick the same files: \(error)"))
        }
        return result
    }

    /// Each restored file with its unchanged source, byte for byte; the paths compared, and the counts.
    static func compare(_ files: [Node], unchanged: Set<String>, restoredBelow directory: String, into start: DrillResult, isCancelled: () -> Bool) -> (compared: [String], result: DrillResult) {
        var result = start
        var compared: [String] = []
        for node in files {
            if isCancelled() { break }
            let restored = directory + node.path
            result.bytesRestored += size(of: restored) ?? 0
            guard unchanged.contains(node.path) else {
                result.skipped += 1
                continue
            }
            compared.append(node.path)
            if sameContent(restored, node.path) {
                result.matched += 1
            } else {
                result.differed += 1
                if result.differedPaths.count < DrillResult.maxListedPaths { result.differedPaths.append(node.path) }
            }
        }
        return (compared, result)
    }

    // MARK: Files

    /// The source is a regular file of the snapshot's size and modification time (to the microsecond).
    static func sourceIsUnchanged(_ node: Node) -> Bool {
        var info = stat()
        guard lstat(node.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        guard let size = node.size, UInt64(max(0, info.st_size)) == size, let mtime = node.modificationTime else { return false }
        let seconds = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        // A Date holds about a tenth of a microsecond today; the snapshot's nanoseconds are not all kept.
        return abs(seconds - mtime.timeIntervalSince1970) < 2e-6
    }

    static func size(of path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return UInt64(max(0, info.st_size))
    }

    /// Byte for byte, read in blocks; a restored file that is missing or not a regular file differs.
    static func sameContent(_ restored: String, _ source: String) -> Bool {
        guard let first = size(of: restored), let second = size(of: source), first == second else { return false }
        let a = open(restored, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard a >= 0 else { return false }
        defer { close(a) }
        let b = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard b >= 0 else { return false }
        defer { close(b) }
        let block = 64 * 1024
        var left = [UInt8](repeating: 0, count: block)
        var right = [UInt8](repeating: 0, count: block)
        while true {
            let readLeft = readFully(a, &left)
            let readRight = readFully(b, &right)
            guard readLeft == readRight, readLeft >= 0 else { return false }
            if readLeft == 0 { return true }
            if left[0..<readLeft] != right[0..<readRight] { return false }
        }
    }

    private static func readFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Int {
        var total = 0
        while total < buffer.count {
            let count = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress! + total, raw.count - total)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// `data_dir/drills/<name>`, created afresh with mode 0700 (a leftover of the same name is replaced).
    static func makePrivateDirectory(in parent: String, name: String) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw EngineError(.failed, "The drills' directory \(parent) cannot be created: \(error.localizedDescription)")
        }
        let path = (parent as NSString).appendingPathComponent(name)
        remove(path)
        guard mkdir(path, 0o700) == 0 else {
            throw EngineError(.failed, "The drill's private directory \(path) cannot be created: \(String(cString: strerror(errno))).")
        }
        return path
    }

    /// Removes a tree without following symbolic links (a restored link is removed, never what it names).
    /// Directories restored read-only are made writable first, or their entries could not be removed.
    static func remove(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o700)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                remove(path + "/" + name)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Removes what drills that never ended (a crash) left below `data_dir/drills/`.
    static func removeLeftovers(dataDirectory: String) {
        remove(drillsDirectory(dataDirectory: dataDirectory))
    }

    static func safeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
