import Foundation
import HenTestSupport
import HenEngine
import HenJSON
import Testing

/// The real daemon process with real restic: schedules produce snapshots, SIGTERM ends it cleanly without
/// a restic lock, and the records survive a restart. (Wall-clock waits are the point here: this is the
/// one place the whole daemon runs as users run it.)
@Suite(.serialized) struct DaemonEndToEndTests {
    static let restic = Restic.path

    /// A temporary directory with data to back up, a password file and a configuration.
    struct Setup {
        let directory: String
        var configPath: String { "\(directory)/config.yml" }
        var dataDirectory: String { "\(directory)/data" }
        var repository: String { "\(directory)/repo" }
        var passwordFile: String { "\(directory)/password" }
        /// The API's port: free on loopback, so that daemons of parallel runs never meet.
        let port: Int
        var url: String { "http://127.0.0.1:\(port)" }
        static let token = "e2e-token-0123456789abcdef"

        /// - Parameter apiYAML: the `api:` mapping's lines after `listen` (default: one bearer token).
        init(schedule: String, shutdownGrace: String = "5s", extraBackupYAML: String = "", sourceBytes: Int = 0, extraYAML: String = "", apiYAML: String? = nil, repositoriesYAML: String = "") throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-daemon-\(UUID().uuidString)").path
            port = try freeLoopbackPort()
            let fileManager = FileManager.default
            try fileManager.createDirectory(atPath: "\(directory)/source/notes", withIntermediateDirectories: true)
            try fileManager.createDirectory(atPath: "\(directory)/restores", withIntermediateDirectories: true)
            try "buy eggs\n".write(toFile: "\(directory)/source/notes/todo.txt", atomically: true, encoding: .utf8)
            if sourceBytes > 0 {
                // Random, so that restic can neither compress nor deduplicate it.
                var generator = SystemRandomNumberGenerator()
                let words = (0..<(sourceBytes / 8)).map { _ in generator.next() }
                let data = words.withUnsafeBufferPointer { Data(buffer: $0) }
                try data.write(to: URL(fileURLWithPath: "\(directory)/source/big.bin"))
            }
            try "correct horse battery staple\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            let yaml = """
                hostname: e2e-host
                data_dir: \(dataDirectory)
                status_interval: 1s
                shutdown_grace: \(shutdownGrace)
                executables: { restic: \(DaemonEndToEndTests.restic) }
                api:
                  listen: 127.0.0.1:\(port)
                  \(apiYAML ?? "auth: { tokens: [\(Setup.token)] }")
                restore: { allowed_targets: [\(directory)/restores] }
                \(extraYAML)
                repositories:
                  local:
                    location: \(repository)
                    password_file: \(passwordFile)
                \(repositoriesYAML)
                backups:
                  documents:
                    paths: [\(directory)/source]
                    schedules: [\(schedule)]
                    repositories: [local]
                \(extraBackupYAML)
                """
            try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        func startDaemon(_ name: String, _ extra: [String] = []) throws -> DaemonProcess {
            try DaemonProcess(arguments: ["daemon", "--config", configPath] + extra, logPath: "\(directory)/\(name).log")
        }

        func records() async throws -> [JobRecord] {
            try await JobStore(dataDirectory: dataDirectory).records(JobFilter(limit: 1_000))
        }

        /// Polls the job store until `condition` holds (at most `timeout` seconds).
        func waitForRecords(timeout: Double, _ condition: ([JobRecord]) -> Bool) async throws -> [JobRecord] {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if FileManager.default.fileExists(atPath: "\(dataDirectory)/jobs.sqlite") {
                    let records = try await records()
                    if condition(records) { return records }
                    if let failed = records.first(where: { $0.state == .failed }) {
                        throw DaemonTestError("Job \(failed.id) failed: \(failed.error ?? "?")")
                    }
                }
                guard Date() < deadline else {
                    let summary = ((try? await records()) ?? []).map { "\($0.id) \($0.operation) \($0.trigger) \($0.state) \($0.error ?? "")" }
                    throw DaemonTestError("The job store did not reach the expected state within \(timeout)s. Records:\n\(summary.joined(separator: "\n"))\nDaemon output (without watchdog lines):\n\(daemonLogsWithoutWatchdog.suffix(6_000))")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        /// Every daemon log of the test, in order.
        var daemonLogs: String {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
            return names.map { "== \($0)\n" + ((try? String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8)) ?? "") }.joined(separator: "\n")
        }

        /// The daemon logs without the once-a-second watchdog lines, which would hide everything else.
        var daemonLogsWithoutWatchdog: String {
            daemonLogs.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains(#""component":"watchdog""#) }
                .joined(separator: "\n")
        }

        /// Waits until `condition` holds (at most `timeout` seconds).
        func wait(timeout: Double, for what: String, _ condition: () -> Bool) async throws {
            let deadline = Date().addingTimeInterval(timeout)
            while !condition() {
                guard Date() < deadline else { throw DaemonTestError("Waited \(timeout)s for \(what).") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// restic's lock files. Not its `…-tmp-…` files: a lock being written when restic was interrupted
        /// (restic itself ignores them; waiting for "a lock" must not stop at one).
        var locks: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(repository)/locks")) ?? []).filter { !$0.contains("-tmp-") }
        }

        /// `restic snapshots --json` of the repository.
        func snapshots() throws -> [[String: Any]] {
            let output = try runTool(DaemonEndToEndTests.restic, ["-r", repository, "--password-file", passwordFile, "--no-cache", "snapshots", "--json"])
            return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func scheduledBackupsMakeSnapshotsSIGTERMStopsCleanlyAndRecordsSurviveARestart() async throws {
        let setup = try Setup(schedule: "2s")
        defer { setup.remove() }
        let first = try setup.startDaemon("first")
        defer { first.close() }

        let before = try await setup.waitForRecords(timeout: 90) { $0.filter { $0.state == .succeeded }.count >= 2 }
        first.signal(SIGTERM)
        let status = await first.waitForExit(timeout: 30)
        #expect(status == 0, "daemon output:\n\(first.output)")
        #expect(setup.locks.isEmpty, "restic locks left: \(setup.locks)")

        let afterStop = try await setup.records()
        #expect(!afterStop.contains { $0.state == .running || $0.state == .queued && $0.startedAt != nil })
        let succeeded = afterStop.filter { $0.state == .succeeded }
        #expect(succeeded.count >= before.filter { $0.state == .succeeded }.count)
        for record in succeeded {
            #expect(record.trigger == .schedule("every 2s"))
            #expect(record.steps.map(\.id).first == "backup:local")
            #expect(record.results.first?.snapshotID != nil)
        }
        // The first job created the repository when restic said it did not exist, then backed up.
        #expect(afterStop.last?.steps.map(\.id) == ["backup:local", "init:local"])

        // Every snapshot is in a record: the succeeded jobs', and one that SIGTERM interrupted after restic
        // had saved its snapshot (the record says both).
        let snapshots = try setup.snapshots()
        let recorded = Set(afterStop.flatMap { $0.results.compactMap(\.snapshotID) })
        #expect(Set(snapshots.compactMap { $0["id"] as? String }) == recorded)
        #expect(snapshots.count >= succeeded.count)
        for snapshot in snapshots {
            #expect(snapshot["hostname"] as? String == "e2e-host")
            let tags = snapshot["tags"] as? [String] ?? []
            #expect(tags.contains("backup=documents"))
            #expect(tags.contains { $0.hasPrefix("job=") })
        }

        // A restart keeps every record and goes on backing up.
        let second = try setup.startDaemon("second")
        defer { second.close() }
        let afterRestart = try await setup.waitForRecords(timeout: 60) { records in
            records.filter { $0.state == .succeeded }.count > succeeded.count
        }
        second.signal(SIGTERM)
        #expect(await second.waitForExit(timeout: 30) == 0, "daemon output:\n\(second.output)")
        for record in afterStop where record.state.isFinished {
            #expect(afterRestart.first { $0.id == record.id }?.state == record.state)
        }
        #expect(setup.locks.isEmpty)
    }

    @Test func limitsAndPriorityReachResticAndTheJobRecordShowsThem() async throws {
        let setup = try Setup(schedule: "1w", extraBackupYAML: "    limits: { upload: 5M, download: 1.5M }\n    nice: { cpu: 10, io: idle }")
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        let records = try await setup.waitForRecords(timeout: 90) { records in records.contains { $0.state == .succeeded } }
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 30) == 0, "daemon output:\n\(daemon.output)")
        let record = try #require(records.first { $0.state == .succeeded })
        let commands = record.log.map(\.message).filter { $0.hasPrefix("run: ") && $0.contains(" backup ") }
        let backup = try #require(commands.first, "log: \(record.log.map(\.message))")
        // 5M = 5 MiB/s = 5120 KiB/s; 1.5M = 1536 KiB/s; CPU niceness 10 and the idle IO class.
        #expect(backup.contains("--limit-upload 5120"), "\(backup)")
        #expect(backup.contains("--limit-download 1536"), "\(backup)")
        #expect(backup.contains("nice -n 10") && backup.contains("ionice -t -c 3"), "\(backup)")
        let everything = try String(decoding: HenJSON.encoder().encode(record), as: UTF8.self) + daemon.output
        #expect(!everything.contains("correct horse battery staple"))
    }

    @Test func aChangedFileQueuesABackupWithTriggerWatch() async throws {
        let setup = try Setup(schedule: "1w", extraBackupYAML: "    watch: { latency: 1s, max_wait: 10s }")
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        // The weekly schedule never ran: one backup at start.
        _ = try await setup.waitForRecords(timeout: 90) { records in records.contains { $0.state == .succeeded } }
        try "call the vet\n".write(toFile: "\(setup.directory)/source/notes/monday.txt", atomically: false, encoding: .utf8)
        let records = try await setup.waitForRecords(timeout: 90) { records in
            records.contains { if case .watch = $0.trigger { $0.state == .succeeded } else { false } }
        }
        let watched = try #require(records.first { if case .watch = $0.trigger { true } else { false } })
        guard case .watch(let paths, let count) = watched.trigger else { return }
        #expect(paths.contains("\(setup.directory)/source/notes/monday.txt"), "paths: \(paths)")
        #expect(count >= 1)
        #expect(watched.results.first?.snapshotID != nil)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 30) == 0, "daemon output:\n\(daemon.output)")
    }

    @Test func aSecondSignalStopsARunningBackupAtOnceWithoutLeavingALock() async throws {
        // 8 MiB of random data at 64 KiB/s: the backup runs far longer than the test waits.
        let setup = try Setup(schedule: "1h", shutdownGrace: "10m", extraBackupYAML: "    limits: { upload: 64K }", sourceBytes: 8 << 20)
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        _ = try await setup.waitForRecords(timeout: 60) { records in
            records.contains { $0.state == .running && $0.steps.contains { $0.id == "backup:local" && $0.state == .running } }
        }
        try await Task.sleep(for: .seconds(1))
        daemon.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        daemon.signal(SIGTERM)
        // The grace is 10 minutes; a second signal must not wait for it.
        let status = await daemon.waitForExit(timeout: 20)
        #expect(status == 0, "daemon output:\n\(daemon.output)")
        let records = try await setup.records()
        let backup = try #require(records.first { $0.operation == "backup" })
        #expect(backup.state == .interrupted)
        #expect(setup.locks.isEmpty, "restic locks left: \(setup.locks)")
    }

    /// A terminal closed under an in-process `hen-backup backup` (SIGHUP) stops the job as Ctrl-C does: restic
    /// is interrupted and removes its lock, the job is recorded cancelled, the exit code is 130.
    @Test func anInProcessBackupStopsCleanlyWhenItsTerminalHangsUp() async throws {
        let setup = try Setup(schedule: "1h", extraBackupYAML: "    limits: { upload: 64K }", sourceBytes: 8 << 20)
        defer { setup.remove() }
        let cli = try DaemonProcess(arguments: ["backup", "documents", "--local", "--config", setup.configPath], logPath: "\(setup.directory)/cli.log")
        defer { cli.close() }
        _ = try await setup.waitForRecords(timeout: 60) { records in
            records.contains { $0.state == .running && $0.steps.contains { $0.id == "backup:local" && $0.state == .running } }
        }
        try await setup.wait(timeout: 30, for: "restic's lock") { !setup.locks.isEmpty }
        cli.signal(SIGHUP)
        #expect(await cli.waitForExit(timeout: 60) == 130, "output:\n\(cli.output)")
        let backup = try #require(try await setup.records().first { $0.operation == "backup" })
        #expect(backup.state == .cancelled)
        #expect(backup.trigger == .cli)
        #expect(setup.locks.isEmpty, "restic locks left: \(setup.locks)\n\(cli.output)")
    }

    @Test func afterKillNineTheRecordIsInterruptedTheStaleLockIsRemovedAndTheBackupRunsAgain() async throws {
        let setup = try Setup(schedule: "1h", extraBackupYAML: "    limits: { upload: 64K }", sourceBytes: 8 << 20)
        defer { setup.remove() }
        let crashed = try setup.startDaemon("first")
        defer { crashed.close() }
        let running = try await setup.waitForRecords(timeout: 120) { records in
            records.contains { $0.state == .running && $0.steps.contains { $0.id == "backup:local" && $0.state == .running } }
        }
        let job = try #require(running.first { $0.state == .running })
        try await setup.wait(timeout: 30, for: "restic's lock") { !setup.locks.isEmpty }
        // The machine "loses power": the daemon and its restic die at once, restic's lock stays behind.
        let children = crashed.descendants
        #expect(!children.isEmpty)
        crashed.signal(SIGKILL)
        for child in children { kill(child, SIGKILL) }
        _ = await crashed.waitForExit(timeout: 10)
        // restic calls a lock stale only when its process is gone (reaped), as after a reboot.
        try await setup.wait(timeout: 30, for: "the killed restic to be gone") {
            children.allSatisfy { !FileManager.default.fileExists(atPath: "/proc/\($0)") }
        }
        let staleLocks = setup.locks
        #expect(!staleLocks.isEmpty)

        let restarted = try setup.startDaemon("second")
        defer { restarted.close() }
        let records = try await setup.waitForRecords(timeout: 120) { records in
            records.contains { $0.operation == "unlock" && $0.state == .succeeded }
                && records.contains { $0.operation == "backup" && $0.id != job.id && $0.state == .running }
        }
        let interrupted = try #require(records.first { $0.id == job.id })
        #expect(interrupted.state == .interrupted)
        #expect(interrupted.endedAt != nil)
        let unlock = try #require(records.first { $0.operation == "unlock" })
        #expect(unlock.trigger == .startup && unlock.target == "local")
        #expect(Set(setup.locks).isDisjoint(with: staleLocks), "the stale lock is still there")
        restarted.signal(SIGTERM)
        restarted.signal(SIGTERM)
        #expect(await restarted.waitForExit(timeout: 20) == 0, "daemon output:\n\(restarted.output)")
        #expect(setup.locks.isEmpty, "restic locks left: \(setup.locks)")
    }
}
