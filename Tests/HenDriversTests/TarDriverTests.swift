import Foundation
import HenTestSupport
@testable import HenDrivers
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What only the tar driver promises: its layout, atomic writes, locks, check's findings, PAX members.
@Suite(.serialized)
struct TarDriverTests {
    let scratch: ConformanceScratch
    let repository: URL
    let source: URL

    init() throws {
        scratch = try ConformanceScratch("tar")
        repository = scratch.url.appendingPathComponent("repo")
        source = scratch.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("alpha\n".utf8).write(to: source.appendingPathComponent("a.txt"))
        try Data("beta beta\n".utf8).write(to: source.appendingPathComponent("sub/b.txt"))
        try Data("skip\n".utf8).write(to: source.appendingPathComponent("sub/c.log"))
    }

    func driver(host: String = "h") throws -> TarDriver {
        try TarDriver(repository: RepositoryTarget(name: "t", location: repository.path), context: DriverContext(hostname: host))
    }

    func initialized(host: String = "h") async throws -> TarDriver {
        let driver = try driver(host: host)
        _ = try await driver.initialize()
        return driver
    }

    func contents(_ relative: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent(relative).path).sorted()
    }

    func manifestLines(_ id: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: repository.appendingPathComponent("snapshots/\(id).manifest.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    // MARK: Building blocks

    @Test func sha256MatchesKnownDigests() {
        func digest(_ text: String) -> String {
            var hash = SHA256()
            hash.update(Array(text.utf8))
            return hash.finalizeHex()
        }
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var chunked = SHA256()
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        for start in stride(from: 0, to: million.count, by: 9_973) {
            chunked.update(million[start..<min(start + 9_973, million.count)])
        }
        #expect(chunked.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func locationsMustBeLocal() throws {
        for location in ["s3:bucket/repo", "sftp:host:/srv/repo", "rest:http://localhost:8000/"] {
            #expect(throws: DriverError.self) {
                try TarDriver(repository: RepositoryTarget(name: "t", location: location), context: DriverContext(hostname: "h"))
            }
        }
        let local = try TarDriver(repository: RepositoryTarget(name: "t", location: "local:" + repository.path), context: DriverContext(hostname: "h"))
        #expect(local.root == repository.path)
        _ = try TarDriver(repository: RepositoryTarget(name: "t", location: "/srv/with:colon"), context: DriverContext(hostname: "h"))
        #expect(try driver().capabilities == [.readDataSubset, .locks])
    }

    @Test func operationsNeedAnInitializedRepository() async throws {
        let driver = try driver()
        try await expectDriverError(.repositoryMissing) { _ = try await driver.backup(BackupRequest(paths: [source.path])) }
        try await expectDriverError(.repositoryMissing) { _ = try await driver.snapshots(SnapshotFilter()).collectAll() }
        try await expectDriverError(.repositoryMissing) { _ = try await driver.check(CheckRequest()) }
        #expect(!FileManager.default.fileExists(atPath: repository.path))
    }

    @Test func invalidBackupRequests() async throws {
        let driver = try await initialized()
        try await expectDriverError(.invalidRequest) { _ = try await driver.backup(BackupRequest(paths: [])) }
        try await expectDriverError(.invalidRequest) { _ = try await driver.backup(BackupRequest(paths: ["relative/path"])) }
        try await expectDriverError(.sourceMissing) { _ = try await driver.backup(BackupRequest(paths: [source.path + "/missing"])) }
        try await expectDriverError(.invalidRequest) { _ = try await driver.backup(BackupRequest(paths: [source.path], excludes: ["[oops"])) }
        #expect(try contents("snapshots").isEmpty)
        #expect(try contents("locks").isEmpty)
    }

    // MARK: Layout

    @Test func backupWritesArchiveAndManifest() async throws {
        let driver = try await initialized()
        let progress = Mutex<[HenDrivers.Progress]>([])
        let summary = try await driver.backup(
            BackupRequest(paths: [source.path + "/"], excludes: ["*.log"], tags: ["backup=docs", "job=7"]),
            events: { event in if case .progress(let value) = event { progress.withLock { $0.append(value) } } }
        )
        let id = summary.snapshotID
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        #expect(try contents("snapshots") == ["\(id).manifest.jsonl", "\(id).tar.gz"])
        #expect(try contents("tmp").isEmpty)
        #expect(try contents("locks").isEmpty)
        #expect(summary.totalFilesProcessed == 2)
        #expect(summary.totalBytesProcessed == 16)
        #expect(summary.dataAdded > 0)
        #expect(progress.withLock { $0.last?.filesDone } == 2)

        let lines = try manifestLines(id)
        #expect(lines[0]["id"] as? String == id)
        #expect(lines[0]["host"] as? String == "h")
        #expect(lines[0]["tags"] as? [String] == ["backup=docs", "job=7"])
        #expect(lines[0]["paths"] as? [String] == [source.path])
        let paths = lines.dropFirst().compactMap { $0["path"] as? String }
        // Ancestors first (as restic records them), then the tree depth first; the excluded file is absent.
        let ancestors = source.path.split(separator: "/").indices.map { "/" + source.path.split(separator: "/")[...$0].joined(separator: "/") }
        #expect(paths == ancestors + [source.path + "/a.txt", source.path + "/sub", source.path + "/sub/b.txt"])
        let a = try #require(lines.first { $0["path"] as? String == source.path + "/a.txt" })
        var hash = SHA256()
        hash.update(Array("alpha\n".utf8))
        #expect(a["sha256"] as? String == hash.finalizeHex())

        // The archive is an ordinary tar.gz.
        let listing = scratch.url.appendingPathComponent("listing")
        try ConformanceShell.run("/usr/bin/tar", ["-tzf", repository.appendingPathComponent("snapshots/\(id).tar.gz").path], stdoutTo: listing.path)
        let members = try String(contentsOf: listing, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(members.contains(String(source.path.dropFirst()) + "/sub/b.txt"))
        #expect(!members.contains { $0.hasSuffix("c.log") })
    }

    @Test func symlinkedAncestorsAreStoredAsDirectories() async throws {
        let driver = try await initialized()
        let alias = scratch.url.appendingPathComponent("alias")
        try FileManager.default.createSymbolicLink(atPath: alias.path, withDestinationPath: scratch.url.path)
        let root = alias.path + "/data"
        let id = try await driver.backup(BackupRequest(paths: [root])).snapshotID
        let nodes = try await driver.list(snapshot: id, path: alias.path).collectAll()
        #expect(nodes.first?.path == alias.path)
        #expect(nodes.first?.kind == .directory)
        let target = scratch.url.appendingPathComponent("restore")
        _ = try await driver.restore(RestoreRequest(snapshot: id, target: target.path))
        var info = stat()
        #expect(lstat(target.path + alias.path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
        #expect(FileManager.default.contents(atPath: target.path + root + "/a.txt") == Data("alpha\n".utf8))
    }

    @Test func cancelledBackupLeavesNothingBehind() async throws {
        let driver = try await initialized()
        for index in 0..<20 {
            try Data(repeating: UInt8(index), count: 4096).write(to: source.appendingPathComponent("sub/file\(index)"))
        }
        let request = BackupRequest(paths: [source.path])
        let task = Task { [driver] in
            try await driver.backup(request, events: { event in
                // Cancel from inside the backup, after its first file: deterministic, no timing involved.
                if case .progress = event { withUnsafeCurrentTask { $0?.cancel() } }
            })
        }
        try await expectDriverError(.cancelled) { _ = try await task.value }
        #expect(try contents("snapshots").isEmpty)
        #expect(try contents("tmp").isEmpty)
        #expect(try contents("locks").isEmpty)
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().isEmpty)
    }

    @Test func longNamesAndSubsecondTimesSurviveTheArchive() async throws {
        let driver = try await initialized()
        let longName = String(repeating: "long name ", count: 15) + "é.txt"
        var deep = source
        for level in 0..<6 { deep = deep.appendingPathComponent("level \(level) " + String(repeating: "d", count: 40)) }
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let file = deep.appendingPathComponent(longName)
        try Data("deep and long\n".utf8).write(to: file)
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789)]
        #expect(utimensat(AT_FDCWD, file.path, &times, 0) == 0)
        let link = source.appendingPathComponent("long link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: file.path)

        let id = try await driver.backup(BackupRequest(paths: [source.path])).snapshotID
        let nodes = try await driver.list(snapshot: id, path: nil).collectAll()
        let node = try #require(nodes.first { $0.path == file.path })
        #expect(abs((node.modificationTime?.timeIntervalSince1970 ?? 0) - 1_700_000_000.123456789) < 1e-6)
        #expect(nodes.first { $0.path == link.path }?.linkTarget == file.path)

        let target = scratch.url.appendingPathComponent("restore")
        _ = try await driver.restore(RestoreRequest(snapshot: id, target: target.path))
        let restored = target.path + file.path
        #expect(FileManager.default.contents(atPath: restored) == Data("deep and long\n".utf8))
        var info = stat()
        #expect(stat(restored, &info) == 0)
        #expect(info.st_mtim.tv_sec == 1_700_000_000 && info.st_mtim.tv_nsec == 123_456_789)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.path + link.path) == file.path)
        #expect(try await driver.check(CheckRequest()).ok)
    }

    // MARK: Reading

    @Test func dumpListAndRestoreErrors() async throws {
        let driver = try await initialized()
        let id = try await driver.backup(BackupRequest(paths: [source.path])).snapshotID
        try await expectDriverError(.pathNotFound) { _ = try await driver.list(snapshot: id, path: source.path + "/nope").collectAll() }
        try await expectDriverError(.pathNotFound) { _ = try await driver.dump(snapshot: id, path: source.path + "/nope").collectAll() }
        try await expectDriverError(.pathNotFound) {
            _ = try await driver.restore(RestoreRequest(snapshot: id, target: scratch.url.appendingPathComponent("r").path, includes: [source.path + "/nope"]))
        }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.list(snapshot: String(repeating: "0", count: 64), path: nil).collectAll() }

        // Short ids resolve; the whole snapshot dumps as one tar stream.
        #expect(try await driver.list(snapshot: String(id.prefix(8)), path: source.path + "/sub").collectAll().map(\.path) == [source.path + "/sub", source.path + "/sub/b.txt", source.path + "/sub/c.log"])
        let tarFile = scratch.url.appendingPathComponent("all.tar")
        try Data(try await driver.dump(snapshot: id, path: "/").collectAll().flatMap { $0 }).write(to: tarFile)
        let listing = scratch.url.appendingPathComponent("listing")
        try ConformanceShell.run("/usr/bin/tar", ["-tf", tarFile.path], stdoutTo: listing.path)
        #expect(try String(contentsOf: listing, encoding: .utf8).contains(String(source.path.dropFirst()) + "/sub/c.log"))

        // A consumer that stops early does not hang or leak: the next read works.
        for try await _ in driver.dump(snapshot: id, path: "/") { break }
        #expect(try await driver.dump(snapshot: id, path: source.path + "/a.txt").collectAll().flatMap { $0 } == Array("alpha\n".utf8))
    }

    @Test func cancelledRestoreStopsBeforeTar() async throws {
        let driver = try await initialized()
        let id = try await driver.backup(BackupRequest(paths: [source.path])).snapshotID
        let request = RestoreRequest(snapshot: id, target: scratch.url.appendingPathComponent("restore").path)
        let task = Task { [driver] in
            try await driver.restore(request, events: { event in
                if case .progress = event { withUnsafeCurrentTask { $0?.cancel() } }
            })
        }
        try await expectDriverError(.cancelled) { _ = try await task.value }
        #expect(!FileManager.default.fileExists(atPath: request.target + source.path + "/a.txt"))
    }

    // MARK: Forget, check, stats, locks

    @Test func forgetByIdsAndPolicy() async throws {
        let driver = try await initialized()
        let one = try await driver.backup(BackupRequest(paths: [source.path], tags: ["backup=a"])).snapshotID
        let two = try await driver.backup(BackupRequest(paths: [source.path], tags: ["backup=b"])).snapshotID
        let three = try await driver.backup(BackupRequest(paths: [source.path], tags: ["backup=a"])).snapshotID

        try await expectDriverError(.invalidRequest) { _ = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy()))) }
        try await expectDriverError(.invalidRequest) { _ = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 0)))) }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.forget(ForgetRequest(selection: .snapshots([two]), tags: ["backup=a"])) }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.forget(ForgetRequest(selection: .snapshots(["deadbeef"]))) }

        // Policy within tags: backup=b's snapshot is not considered.
        let policy = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: ["backup=a"], prune: true))
        #expect(policy.removed == [one])
        #expect(policy.kept == [three])
        #expect(policy.pruned)
        #expect(!FileManager.default.fileExists(atPath: repository.appendingPathComponent("snapshots/\(one).tar.gz").path))

        let byID = try await driver.forget(ForgetRequest(selection: .snapshots([String(two.prefix(10))])))
        #expect(byID.removed == [two])
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().map(\.id) == [three])
        #expect(try contents("snapshots") == ["\(three).manifest.jsonl", "\(three).tar.gz"])

        let stats = try await driver.stats()
        #expect(stats.snapshotCount == 1)
        #expect(stats.totalFileCount == 3)
        #expect((stats.totalSize ?? 0) > 0)
    }

    @Test func checkFindsDamage() async throws {
        let driver = try await initialized()
        let first = try await driver.backup(BackupRequest(paths: [source.path])).snapshotID
        let second = try await driver.backup(BackupRequest(paths: [source.path])).snapshotID
        #expect(try await driver.check(CheckRequest()).ok)

        // A flipped content byte: only the checksum can tell.
        let archive = repository.appendingPathComponent("snapshots/\(first).tar.gz")
        let plain = scratch.url.appendingPathComponent("plain.tar")
        try ConformanceShell.run("/usr/bin/gzip", ["-dc", archive.path], stdoutTo: plain.path)
        var bytes = [UInt8](try Data(contentsOf: plain))
        let marker = Array("beta beta".utf8)
        let at = try #require((0...(bytes.count - marker.count)).first { bytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        bytes[at] = UInt8(ascii: "B")
        try Data(bytes).write(to: plain)
        try ConformanceShell.run("/usr/bin/gzip", ["-c", "-n", plain.path], stdoutTo: archive.path)
        let flipped = try await driver.check(CheckRequest())
        #expect(flipped.errors.count == 1)
        #expect(flipped.errors.first?.contains("sub/b.txt does not match its SHA-256 checksum") == true)
        #expect(flipped.errors.first?.contains(String(first.prefix(8))) == true)

        // Subsets pick snapshots: 1/2 is the older one, 2/2 the newer.
        #expect(try await driver.check(CheckRequest(readDataSubset: "1/2")).ok == false)
        #expect(try await driver.check(CheckRequest(readDataSubset: "2/2")).ok)
        try await expectDriverError(.invalidRequest) { _ = try await driver.check(CheckRequest(readDataSubset: "lots")) }
        try await expectDriverError(.invalidRequest) { _ = try await driver.check(CheckRequest(readDataSubset: "0%")) }

        // A truncated archive and a missing one.
        let secondArchive = repository.appendingPathComponent("snapshots/\(second).tar.gz")
        let data = try Data(contentsOf: secondArchive)
        try data.prefix(data.count / 2).write(to: secondArchive)
        let truncated = try await driver.check(CheckRequest(readDataSubset: "2/2"))
        #expect(truncated.errors.count == 1)
        try FileManager.default.removeItem(at: secondArchive)
        let missing = try await driver.check(CheckRequest(readDataSubset: "2/2"))
        #expect(missing.errors == ["snapshot \(second.prefix(8)): the archive snapshots/\(second).tar.gz is missing"])

        // An archive without a manifest is a warning, not an error.
        try FileManager.default.removeItem(at: repository.appendingPathComponent("snapshots/\(first).manifest.jsonl"))
        let orphan = try await driver.check(CheckRequest(readDataSubset: "1/1"))
        #expect(orphan.warnings.contains { $0.contains("\(first).tar.gz has no manifest") })

        // A manifest that cannot be read is an error: its snapshot is invisible otherwise.
        let garbage = String(repeating: "ab", count: 32)
        try Data("not json\n".utf8).write(to: repository.appendingPathComponent("snapshots/\(garbage).manifest.jsonl"))
        let unreadable = try await driver.check(CheckRequest(readDataSubset: "1/1"))
        #expect(unreadable.errors.contains("snapshots/\(garbage).manifest.jsonl is not a readable snapshot manifest"))
    }

    @Test func locksBlockWritersAndUnlockClearsOnlyStaleOnes() async throws {
        let driver = try await initialized()
        let lockPath = repository.appendingPathComponent("locks/exclusive.json")
        func writeLock(pid: Int32, machine: String) throws {
            let lock = TarRepositoryLock(machine: machine, pid: pid, operation: "backup", time: "2024-01-01T00:00:00Z")
            try Data(try JSONEncoder().encode(lock)).write(to: lockPath)
        }

        // A live holder (this very process) blocks writers and survives unlock.
        try writeLock(pid: getpid(), machine: TarRepositoryLock.currentMachine)
        try await expectDriverError(.repositoryLocked) { _ = try await driver.backup(BackupRequest(paths: [source.path])) }
        try await expectDriverError(.repositoryLocked) { _ = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)))) }
        try await driver.unlock()
        #expect(FileManager.default.fileExists(atPath: lockPath.path))

        // Another machine's lock cannot be judged, so it stays.
        try writeLock(pid: 1, machine: "elsewhere.example")
        try await driver.unlock()
        #expect(FileManager.default.fileExists(atPath: lockPath.path))

        // A process that has exited left a stale lock: unlock removes it and backups work again.
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.reap()
        try writeLock(pid: exited.processIdentifier, machine: TarRepositoryLock.currentMachine)
        do {
            _ = try await driver.backup(BackupRequest(paths: [source.path]))
            Issue.record("a stale lock must still block until unlock")
        } catch let error as DriverError {
            #expect(error.code == .repositoryLocked)
            #expect(error.message.contains("run unlock"))
        }
        try await driver.unlock()
        #expect(!FileManager.default.fileExists(atPath: lockPath.path))
        _ = try await driver.backup(BackupRequest(paths: [source.path]))
    }

    @Test func passwordsAndLimitsAreIgnored() async throws {
        let driver = try TarDriver(
            repository: RepositoryTarget(name: "t", location: repository.path, password: .init("unused-secret"), limits: TransferLimits(uploadBytesPerSecond: 10)),
            context: DriverContext(hostname: "h")
        )
        _ = try await driver.initialize()
        let logs = Mutex<[String]>([])
        _ = try await driver.backup(BackupRequest(paths: [source.path]), events: { event in
            if case .log(_, let message) = event { logs.withLock { $0.append(message) } }
        })
        #expect(logs.withLock { $0.contains { $0.contains("does not support transfer limits") } })
        let everything = try FileManager.default.subpathsOfDirectory(atPath: repository.path)
        for path in everything where path.hasSuffix(".json") || path.hasSuffix(".jsonl") {
            let text = try String(contentsOfFile: repository.appendingPathComponent(path).path, encoding: .utf8)
            #expect(!text.contains("unused-secret"))
        }
    }
}
