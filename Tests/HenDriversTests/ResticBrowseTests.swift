import Foundation
@testable import HenDrivers
import HenProcess
import HenTestSupport
import Synchronization
import Testing

/// Listing, restoring, dumping, forgetting, checking: and confinement to the driver's host.
@Suite("ResticDriver browse and maintenance", .serialized)
struct ResticBrowseTests {
    @Test func listDescribesNodes() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let source = try sandbox.makeSource()
        let id = try await driver.backup(BackupRequest(paths: [source])).snapshotID

        var nodes: [String: Node] = [:]
        for try await node in driver.list(snapshot: id, path: nil) { nodes[node.path] = node }
        let directory = try #require(nodes[source])
        #expect(directory.kind == .directory)
        #expect(directory.mode == 0o755)
        let script = try #require(nodes[source + "/run.sh"])
        #expect(script.kind == .file)
        #expect(script.mode == 0o750)
        #expect(script.size == 18)
        #expect(abs(script.modificationTime?.timeIntervalSinceNow ?? 999) < 300)
        #expect(nodes[source + "/docs/empty"]?.size == 0)
        #expect(nodes[source + "/link"]?.kind == .symlink)
        #expect(nodes[source + "/docs/deep/blob.bin"]?.size == 70_000)

        var below: [String] = []
        for try await node in driver.list(snapshot: String(id.prefix(8)), path: source + "/docs/") { below.append(node.path) }
        #expect(below.sorted() == [source + "/docs", source + "/docs/deep", source + "/docs/deep/blob.bin", source + "/docs/empty"])

        let missing = await #expect(throws: DriverError.self) {
            for try await _ in driver.list(snapshot: id, path: source + "/nothing") {}
        }
        #expect(missing?.code == .pathNotFound)
        let unknown = await #expect(throws: DriverError.self) {
            for try await _ in driver.list(snapshot: "deadbeef", path: nil) {}
        }
        #expect(unknown?.code == .snapshotNotFound)
        let injected = await #expect(throws: DriverError.self) {
            for try await _ in driver.list(snapshot: "--help", path: nil) {}
        }
        #expect(injected?.code == .snapshotNotFound)
    }

    @Test func restoreAndDump() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let source = try sandbox.makeSource()
        let id = try await driver.backup(BackupRequest(paths: [source])).snapshotID

        let everything = sandbox.path("restore-all")
        _ = try await driver.restore(RestoreRequest(snapshot: id, target: everything))
        #expect(FileManager.default.contents(atPath: everything + source + "/hello.txt") == Data("hello restic\n".utf8))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: everything + source + "/link") == "hello.txt")

        let some = sandbox.path("restore-some")
        _ = try await driver.restore(RestoreRequest(snapshot: "latest", target: some, includes: [source + "/docs"]))
        #expect(FileManager.default.contents(atPath: some + source + "/docs/deep/blob.bin") == Data(repeating: 7, count: 70_000))
        #expect(!FileManager.default.fileExists(atPath: some + source + "/hello.txt"))

        let missing = await #expect(throws: DriverError.self) {
            try await driver.restore(RestoreRequest(snapshot: id, target: sandbox.path("restore-none"), includes: [source + "/nothing"]))
        }
        #expect(missing?.code == .pathNotFound)

        var file: [UInt8] = []
        for try await chunk in driver.dump(snapshot: id, path: source + "/docs/deep/blob.bin") { file += chunk }
        #expect(file == [UInt8](repeating: 7, count: 70_000))

        var tar: [UInt8] = []
        for try await chunk in driver.dump(snapshot: id, path: source + "/docs") { tar += chunk }
        #expect(tar.count > 70_000 && tar.count % 512 == 0)
        #expect(Array(tar[257..<262]) == Array("ustar".utf8))

        let noPath = await #expect(throws: DriverError.self) {
            for try await _ in driver.dump(snapshot: id, path: source + "/nothing") {}
        }
        #expect(noPath?.code == .pathNotFound)
    }

    @Test func otherHostsAreInvisible() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let mine = try await sandbox.initializedDriver(host: "mine")
        let theirs = try sandbox.driver(host: "theirs")
        let source = try sandbox.makeSource()
        let myID = try await mine.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("b")])).snapshotID
        let theirID = try await theirs.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("b")])).snapshotID

        var visible: [String] = []
        for try await snapshot in mine.snapshots(SnapshotFilter()) { visible.append(snapshot.id) }
        #expect(visible == [myID])

        for reference in [theirID, String(theirID.prefix(8))] {
            let listed = await #expect(throws: DriverError.self) { for try await _ in mine.list(snapshot: reference, path: nil) {} }
            #expect(listed?.code == .snapshotNotFound)
            let restored = await #expect(throws: DriverError.self) {
                try await mine.restore(RestoreRequest(snapshot: reference, target: sandbox.path("r")))
            }
            #expect(restored?.code == .snapshotNotFound)
            let dumped = await #expect(throws: DriverError.self) { for try await _ in mine.dump(snapshot: reference, path: source + "/hello.txt") {} }
            #expect(dumped?.code == .snapshotNotFound)
            let forgotten = await #expect(throws: DriverError.self) { try await mine.forget(ForgetRequest(selection: .snapshots([reference]))) }
            #expect(forgotten?.code == .snapshotNotFound)
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.path("r")))

        // A policy keeping nothing of "mine" but the last leaves "theirs" alone.
        _ = try await mine.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("b")]))
        let summary = try await mine.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: [SnapshotTag.backup("b")]))
        #expect(summary.removed == [myID])
        var theirsLeft: [String] = []
        for try await snapshot in theirs.snapshots(SnapshotFilter()) { theirsLeft.append(snapshot.id) }
        #expect(theirsLeft == [theirID])
    }

    @Test func forgetByIdAndPolicy() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let source = try sandbox.makeSource()
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await driver.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("docs")])).snapshotID) }
        let other = try await driver.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("other")])).snapshotID

        let empty = await #expect(throws: DriverError.self) { try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy()))) }
        #expect(empty?.code == .invalidRequest)
        let zero = await #expect(throws: DriverError.self) { try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 0)))) }
        #expect(zero?.code == .invalidRequest)

        let byID = try await driver.forget(ForgetRequest(selection: .snapshots([String(ids[0].prefix(8))]), tags: [SnapshotTag.backup("docs")]))
        #expect(byID.removed == [ids[0]])
        let wrongTag = await #expect(throws: DriverError.self) {
            try await driver.forget(ForgetRequest(selection: .snapshots([other]), tags: [SnapshotTag.backup("docs")]))
        }
        #expect(wrongTag?.code == .snapshotNotFound)

        let policy = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: [SnapshotTag.backup("docs")], prune: true))
        #expect(policy.kept == [ids[2]])
        #expect(policy.removed == [ids[1]])
        #expect(policy.pruned)
        var left: [String] = []
        for try await snapshot in driver.snapshots(SnapshotFilter()) { left.append(snapshot.id) }
        #expect(left == [ids[2], other])

        // A backup without a snapshot here yet: restic prints no plan, which is nothing kept or removed.
        let none = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: [SnapshotTag.backup("new")], prune: true))
        #expect(none.kept.isEmpty && none.removed.isEmpty)
    }

    @Test func checkReportsDamageAsData() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        _ = try await driver.backup(BackupRequest(paths: [try sandbox.makeSource()]))
        #expect(try await driver.check(CheckRequest(readDataSubset: "100%")).ok)

        let bad = await #expect(throws: DriverError.self) { try await driver.check(CheckRequest(readDataSubset: "lots")) }
        #expect(bad?.code == .invalidRequest)

        let stats = try await driver.stats()
        // The repository compresses (format 2): a run of sevens costs little.
        #expect((stats.totalSize ?? 0) > 0)
        #expect(stats.snapshotCount == 1)

        // Damage every data pack in place.
        let data = sandbox.path("repo/data")
        let enumerator = try #require(FileManager.default.enumerator(atPath: data))
        var damaged = 0
        for case let relative as String in enumerator {
            let file = data + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            try handle.seek(toOffset: 40)
            try handle.write(contentsOf: Data(repeating: 0xAA, count: 16))
            try handle.close()
            damaged += 1
        }
        #expect(damaged > 0)
        let summary = try await driver.check(CheckRequest(readDataSubset: "100%"))
        #expect(!summary.ok)
        #expect(!summary.errors.contains { $0.hasPrefix("Fatal:") })
        #expect(summary.errors.contains { $0.contains("Pack ID does not match") })
        // An indented detail line is joined to the error it belongs to.
        #expect(summary.errors.contains { $0.hasPrefix("error for tree") && $0.contains("ciphertext verification failed") })
    }

    @Test func staleLockIsRemovedAndLiveLockReported() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let big = try await sandbox.makeRandomTree("big", megabytes: 8)

        // A restic killed with SIGKILL leaves its lock behind.
        let killer = """
        restic backup --limit-upload 1 "$0" >/dev/null 2>&1 & pid=$!
        while [ -z "$(restic list locks --no-lock 2>/dev/null)" ]; do sleep 0.05; done
        kill -9 $pid; wait $pid; true
        """
        let environment = sandbox.resticEnvironment
        _ = try await ChildProcess.run(ChildProcessRequest(executable: "sh", arguments: ["-c", killer, big], environment: environment)) { _ in }
        let (_, locks) = try await sandbox.restic(["list", "locks", "--no-lock"])
        #expect(locks.count == 1)

        // check needs an exclusive lock: the stale one is removed and the check succeeds.
        let recorder = DriverEventRecorder()
        #expect(try await driver.check(CheckRequest(), events: recorder.handler).ok)
        #expect(recorder.logs.contains { $0.contains("is locked; removing stale locks") })
        #expect(try await sandbox.restic(["list", "locks", "--no-lock"]).1.isEmpty)

        // A lock held by a running restic stays, and the operation says who holds it.
        // restic 0.14's lock file exists a moment (200 ms and a second look at the other locks, longer on a
        // loaded machine) before restic counts it as its own: a SIGINT then ends it (130) without removing
        // the file (the driver removes such a stale lock after its own interrupted runs; this holder is a
        // bare restic). Its first progress report (--json) comes after that, so it is interrupted only then.
        let reporting = Mutex(false)
        let holder = Task {
            try await ChildProcess.run(ChildProcessRequest(executable: Restic.path, arguments: ["backup", "--json", "--limit-upload", "1", big], environment: environment)) { line in
                if case .stdout = line { reporting.withLock { $0 = true } }
            }
        }
        defer { holder.cancel() }
        let deadline = ContinuousClock.now + .seconds(120)
        while !reporting.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try #require(reporting.withLock { $0 }, "restic backup reported no progress within 2 minutes")
        #expect(try await sandbox.restic(["list", "locks", "--no-lock"]).1.count == 1)
        let locked = await #expect(throws: DriverError.self) { try await driver.check(CheckRequest()) }
        #expect(locked?.code == .repositoryLocked)
        #expect(locked?.message.contains("locked by another restic process that is still running") == true)
        holder.cancel()
        let stopped = try await holder.value
        #expect(stopped.wasInterrupted)
        let left = try await sandbox.restic(["list", "locks", "--no-lock"]).1
        if !left.isEmpty {
            // Which lock, whose, and how the holder ended: restic writes its pid and time in the lock.
            var held: [String] = []
            for id in left { held += try await sandbox.restic(["cat", "lock", id, "--no-lock"]).1 }
            Issue.record("locks left after the holder (exit \(String(describing: stopped.exitCode)), signal \(String(describing: stopped.signal)), stderr \(stopped.stderrTail)) was stopped: \(held.joined(separator: " "))")
        }
    }

    @Test func cancelledBackupStopsResticCleanly() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        // A tight upload limit keeps restic busy long after the first progress report.
        let driver = try await sandbox.initializedDriver(limits: TransferLimits(uploadBytesPerSecond: 256 * 1024))
        let big = try await sandbox.makeRandomTree("big", megabytes: 32)
        let recorder = DriverEventRecorder()
        let started = ContinuousClock.now
        let backup = Task { try await driver.backup(BackupRequest(paths: [big]), events: recorder.handler) }
        await recorder.waitFor { if case .progress = $0 { true } else { false } }
        #expect(!ResticProcesses.running(repository: sandbox.path("repo")).isEmpty)
        backup.cancel()
        let error = await #expect(throws: DriverError.self) { try await backup.value }
        #expect(error?.code == .cancelled)
        // 32 MB at 256 KiB/s would take two minutes: restic stopped on SIGINT, not at the end.
        #expect(ContinuousClock.now - started < .seconds(60))
        // When the call returns nothing it started is running, and restic removed its lock.
        #expect(ResticProcesses.running(repository: sandbox.path("repo")).isEmpty)
        #expect(try await sandbox.restic(["list", "locks", "--no-lock"]).1.isEmpty)
        var snapshots = 0
        for try await _ in driver.snapshots(SnapshotFilter()) { snapshots += 1 }
        #expect(snapshots == 0)
    }

    @Test func streamConsumerStoppingEarlyStopsRestic() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let big = try await sandbox.makeRandomTree("big", megabytes: 8)
        let id = try await driver.backup(BackupRequest(paths: [big])).snapshotID

        // 8 MB of tar cannot fit in the pipe and the stream's small buffer: restic is still writing when
        // the consumer leaves, and must be stopped (SIGINT, lock removed), not left blocked or killed.
        var received = 0
        for try await chunk in driver.dump(snapshot: id, path: big) {
            received += chunk.count
            break
        }
        #expect(received > 0 && received < 8 * 1024 * 1024)
        #expect(await ResticProcesses.waitUntilNone(repository: sandbox.path("repo")))
        #expect(try await sandbox.restic(["list", "locks", "--no-lock"]).1.isEmpty)

        // A cancelled consumer stops restic the same way. (AsyncThrowingStream ends a stream quietly for a
        // consumer that was already cancelled when it asked for more; one cancelled while waiting hears
        // .cancelled. Either way the dump is cut short and restic stops.)
        let consumer = Task { () async throws -> Int in
            var bytes = 0
            for try await chunk in driver.dump(snapshot: id, path: big) {
                bytes += chunk.count
                withUnsafeCurrentTask { $0?.cancel() }
            }
            return bytes
        }
        switch await consumer.result {
        case .success(let bytes):
            #expect(bytes < 8 * 1024 * 1024)
        case .failure(let error):
            #expect((error as? DriverError)?.code == .cancelled)
        }
        #expect(await ResticProcesses.waitUntilNone(repository: sandbox.path("repo")))
        #expect(try await sandbox.restic(["list", "locks", "--no-lock"]).1.isEmpty)
    }

    @Test func unlockLeavesNothingBroken() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        try await driver.unlock()
        #expect(try await driver.isInitialized())
    }
}
