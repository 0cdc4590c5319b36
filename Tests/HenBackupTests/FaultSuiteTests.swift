import Foundation
import HenEngine
import HenTestSupport
import Testing

/// The fault suite: the real `hen-backup` binary, real restic, real servers on 127.0.0.1, and faults
/// injected on purpose. Each scenario is bounded (every wait has a deadline) and stops every process it
/// started. docs/reliability.md lists what each one proves and the figures of the last run.
@Suite(.serialized) struct FaultSuiteTests {
    typealias Setup = DaemonEndToEndTests.Setup

    // MARK: Helpers

    /// The API with the setup's token; nil when the daemon closed the connection without answering.
    static func api(_ setup: Setup, _ method: String, _ path: String, json: String? = nil, timeout: Double = 30) throws -> RawHTTPResponse? {
        var headers = [("Authorization", "Bearer \(Setup.token)")]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try RawHTTP.request(port: setup.port, method, "/api/v1" + path, headers: headers, body: json.map { Data($0.utf8) }, timeout: timeout)
    }

    static func jobID(_ response: RawHTTPResponse?) throws -> String {
        guard let response, response.status == 202,
            let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let job = object["job"] as? [String: Any], let id = job["id"] as? String
        else { throw DaemonTestError("Not a queued job: \(response.map(String.init(describing:)) ?? "no answer")") }
        return id
    }

    /// Waits until the API answers health (the daemon has recovered and listens).
    static func waitForAPI(_ setup: Setup, _ daemon: DaemonProcess, timeout: Double = 120) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let answer = try? await offPool({ try api(setup, "GET", "/health", timeout: 5) }), answer.status == 200 { return }
            guard daemon.isRunning else { throw DaemonTestError("The daemon exited:\n\(daemon.output.suffix(4_000))") }
            guard Date() < deadline else { throw DaemonTestError("The API did not answer within \(timeout)s:\n\(daemon.output.suffix(4_000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until no job is queued or running in the store (start-up recovery and its unlocks are done).
    static func waitUntilIdle(_ setup: Setup, timeout: Double = 180) async throws -> [JobRecord] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let records = try await setup.records()
            if !records.contains(where: { $0.state == .queued || $0.state == .running }) { return records }
            guard Date() < deadline else {
                throw DaemonTestError("Jobs still queued or running after \(timeout)s: \(records.filter { !$0.state.isFinished }.map { "\($0.id) \($0.operation) \($0.state)" })\n\(setup.daemonLogsWithoutWatchdog.suffix(4_000))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Processes started with this data directory's restic cache: the daemon's restic children.
    static func resticChildren(_ setup: Setup) -> [Int32] {
        let marker = Data("\(setup.dataDirectory)/cache".utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
            guard let pid = Int32(name), ProcessTable.isRunning(pid),
                let cmdline = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"), cmdline.range(of: marker) != nil
            else { return nil }
            return pid
        }
    }

    /// Waits until none of `pids` runs (a zombie waiting for its reaper counts as gone); returns those left.
    static func waitUntilGone(_ pids: [Int32], timeout: Double) async throws -> [Int32] {
        let deadline = Date().addingTimeInterval(timeout)
        var left = pids.filter(ProcessTable.isRunning)
        while !left.isEmpty, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            left = left.filter(ProcessTable.isRunning)
        }
        return left
    }

    static func integrityCheck(_ setup: Setup) async throws -> String {
        try await offPool { try runTool("/usr/bin/sqlite3", ["\(setup.dataDirectory)/jobs.sqlite", "PRAGMA integrity_check"]) }
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func resticCheck(_ setup: Setup) async throws -> String {
        try await offPool {
            try runTool(DaemonEndToEndTests.restic, ["-r", setup.repository, "--password-file", setup.passwordFile, "--no-cache", "check"])
        }
    }

    /// What must hold after any crash and restart: no job running, no lock, a sound job store, every
    /// snapshot a record reports present in the repository, and restic's check passing.
    static func expectRecovered(_ setup: Setup, records: [JobRecord], round: Int) async throws -> Int {
        #expect(!records.contains { $0.state == .running || $0.state == .queued }, "round \(round)")
        #expect(setup.locks.isEmpty, "round \(round): locks left: \(setup.locks)")
        #expect(try await integrityCheck(setup) == "ok", "round \(round)")
        let existing = try await offPool { Set(try setup.snapshots().compactMap { $0["id"] as? String }) }
        let reported = Set(records.flatMap { $0.results.compactMap(\.snapshotID) })
        #expect(reported.isSubset(of: existing), "round \(round): reported snapshots missing: \(reported.subtracting(existing))")
        let check = try await resticCheck(setup)
        #expect(check.contains("no errors were found"), "round \(round): \(check)")
        return reported.count
    }

    /// The seed of every random choice here, printed with the figures so a failing run can be repeated.
    static let seed: UInt64 = 0x4845_4E18

    // MARK: kill -9

    /// `kill -9` of the daemon at 20 seeded moments during backups, prunes and restores.
    @Test(.timeLimit(.minutes(15)))
    func killNineAtTwentySeededMomentsLosesNothing() async throws {
        // 3 MiB at 1 MiB/s: a backup runs about three seconds, so the kills land inside restic's work.
        let setup = try Setup(
            schedule: "1w", extraBackupYAML: "    limits: { upload: 1M }\n    retention: { keep_last: 1000 }", sourceBytes: 3 << 20,
            extraYAML: "retry: { attempts: 1 }"
        )
        defer { setup.remove() }
        var random = SeededRandom(seed: Self.seed)
        var kills: [String: Int] = [:]
        var verifiedSnapshots = 0
        let rounds = 20
        for round in 0...rounds {
            let daemon = try setup.startDaemon(String(format: "daemon-%02d", round))
            defer { daemon.close() }
            try await Self.waitForAPI(setup, daemon)
            let records = try await Self.waitUntilIdle(setup)
            if round > 0 { verifiedSnapshots = max(verifiedSnapshots, try await Self.expectRecovered(setup, records: records, round: round)) }
            guard round < rounds else {
                // After the last restart the next job must not meet a stale lock.
                let id = try Self.jobID(try await offPool { try Self.api(setup, "POST", "/backups/documents/backup", json: "{}") })
                let done = try await setup.waitForRecords(timeout: 120) { $0.contains { $0.id == id && $0.state.isFinished } }
                #expect(done.first { $0.id == id }?.state == .succeeded)
                daemon.signal(SIGTERM)
                #expect(await daemon.waitForExit(timeout: 60) == 0, "\(daemon.output.suffix(3_000))")
                break
            }
            let snapshot = records.flatMap { $0.results.compactMap(\.snapshotID) }.last
            let drawn = ["backup", "backup", "prune", "restore"][Int(random.next() % 4)]
            let operation = drawn == "restore" && snapshot == nil ? "backup" : drawn
            let response: RawHTTPResponse? = try await offPool {
                switch operation {
                case "prune": try Self.api(setup, "POST", "/backups/documents/prune", json: "{}")
                case "restore":
                    try Self.api(setup, "POST", "/restores", json: #"{"repository": "local", "snapshot": "\#(snapshot!)", "target": "\#(setup.directory)/restores/r\#(round)"}"#)
                default: try Self.api(setup, "POST", "/backups/documents/backup", json: "{}")
                }
            }
            let id = try Self.jobID(response)
            // The moment: once the job runs, a seeded 0–2.5 s later.
            _ = try await setup.waitForRecords(timeout: 60) { $0.contains { $0.id == id && $0.state != .queued } }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 2_500)))
            let children = Self.resticChildren(setup)
            daemon.signal(SIGKILL)
            #expect(await daemon.waitForExit(timeout: 30) != nil)
            kills[operation, default: 0] += 1
            // Its restic children die with it (their death signal), before any restart.
            #expect(try await Self.waitUntilGone(children, timeout: 30).isEmpty, "round \(round): restic outlived the daemon")
        }
        let records = try await setup.records()
        let settled = records.filter { $0.warnings.contains { $0.hasPrefix("The daemon stopped while this job ran, after its snapshot") } }.count
        print("fault suite: kill -9 at \(rounds) seeded moments (seed \(Self.seed)): \(kills.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")); \(records.filter { $0.state == .interrupted }.count) interrupted, \(settled) settled as succeeded by their job= tag, \(verifiedSnapshots) reported snapshots verified, 0 jobs lost")
    }

    // MARK: A full data_dir

    @Test(.timeLimit(.minutes(5))) func aFullDataDirRefusesJobsSaysUnavailableAndRecovers() async throws {
        let setup = try Setup(schedule: "1w")
        defer { setup.remove() }
        guard let disk = try SmallFileSystem.mount(megabytes: 24, at: setup.dataDirectory) else {
            print("skipped: mounting a tmpfs for data_dir needs root")
            return
        }
        defer { disk.unmount() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        _ = try await setup.waitForRecords(timeout: 120) { $0.contains { $0.state == .succeeded } }

        disk.fill()
        let refused = try #require(try await offPool { try Self.api(setup, "POST", "/backups/documents/backup", json: "{}") })
        #expect(refused.status == 503, "\(refused)")
        #expect(refused.errorCode == "store_unavailable", "\(refused)")
        #expect(refused.header("content-type")?.hasPrefix("application/json") == true)
        #expect(refused.text.contains("was not queued because it could not be recorded"), "\(refused)")
        let health = try #require(try await offPool { try Self.api(setup, "GET", "/health") })
        #expect(health.status == 503 && health.errorCode == "unavailable", "\(health)")
        #expect(daemon.isRunning)

        disk.free()
        let healthy = try #require(try await offPool { try Self.api(setup, "GET", "/health") })
        #expect(healthy.status == 200, "\(healthy)")
        let id = try Self.jobID(try await offPool { try Self.api(setup, "POST", "/backups/documents/backup", json: "{}") })
        let records = try await setup.waitForRecords(timeout: 120) { $0.contains { $0.id == id && $0.state.isFinished } }
        #expect(records.first { $0.id == id }?.state == .succeeded)
        #expect(try await Self.integrityCheck(setup) == "ok")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "\(daemon.output.suffix(3_000))")
    }

    // MARK: A restic that hangs or crashes

    /// A restic that behaves like the real one except in `backup`, where it does what `body` says.
    static func fakeRestic(in directory: String, named name: String, backup body: String) throws -> String {
        let path = "\(directory)/\(name)"
        let script = """
            #!/bin/sh
            for argument in "$@"; do
              if [ "$argument" = backup ]; then
            \(body)
              fi
            done
            exec \(DaemonEndToEndTests.restic) "$@"

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test(.timeLimit(.minutes(5))) func aHangingResticIsStoppedByMaxDurationAndACrashingOneFailsTheJob() async throws {
        let tools = FileManager.default.temporaryDirectory.appendingPathComponent("hen-fake-restic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tools) }
        // Hangs without a word, but leaves on SIGINT as restic does.
        let hanging = try Self.fakeRestic(in: tools, named: "restic-hangs", backup: "    trap 'exit 130' INT TERM\n    while :; do sleep 0.2; done")
        let crashing = try Self.fakeRestic(in: tools, named: "restic-crashes", backup: "    echo 'panic: runtime error: invalid memory address' >&2\n    kill -SEGV $$")

        let hangs = try Setup(schedule: "1w", extraBackupYAML: "    max_duration: 3s", restic: hanging)
        defer { hangs.remove() }
        let first = try hangs.startDaemon("daemon")
        defer { first.close() }
        let stopped = try await hangs.waitForRecords(timeout: 120) { $0.contains { $0.state == .timedOut } }
        let timedOut = try #require(stopped.first { $0.state == .timedOut })
        #expect(timedOut.error == "Backup documents ran longer than its max_duration of 3s and was stopped.")
        try await hangs.wait(timeout: 30, for: "the hanging restic to end") { Self.resticChildren(hangs).isEmpty }
        #expect(first.isRunning)
        first.signal(SIGTERM)
        #expect(await first.waitForExit(timeout: 60) == 0, "\(first.output.suffix(3_000))")

        let crashes = try Setup(schedule: "1w", restic: crashing)
        defer { crashes.remove() }
        let second = try crashes.startDaemon("daemon")
        defer { second.close() }
        let failed: [JobRecord]
        do {
            failed = try await crashes.waitForRecords(timeout: 120) { _ in false }
        } catch let error as DaemonTestError where error.description.hasPrefix("Job ") {
            failed = try await crashes.records()
        }
        let crashed = try #require(failed.first { $0.state == .failed })
        let message = try #require(crashed.error)
        #expect(message.hasPrefix("Repository \"local\": restic backup failed"), "\(message)")
        #expect(!message.contains("\n"))
        #expect(second.isRunning)
        let health = try #require(try await offPool { try Self.api(crashes, "GET", "/health") })
        #expect(health.status == 200)
        second.signal(SIGTERM)
        #expect(await second.waitForExit(timeout: 60) == 0, "\(second.output.suffix(3_000))")
    }

    // MARK: PID 1

    /// As PID 1 of a PID namespace (a container's entry point), the daemon reaps the orphans handed to it:
    /// here the `sleep` a hook's shell leaves behind.
    @Test(.timeLimit(.minutes(5))) func asPIDOneTheDaemonReapsOrphans() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), let executable = DaemonProcess.executable else {
            print("skipped: a PID namespace needs root and unshare")
            return
        }
        let setup = try Setup(schedule: "1w", extraBackupYAML: """
                hooks:
                  before:
                    - command: ["/bin/sh", "-c", "for i in 1 2 3 4 5; do sleep 0.3 & done; exit 0"]
            """)
        defer { setup.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--pid", "--fork", "--mount-proc", executable, "daemon", "--config", setup.configPath]
        let logPath = "\(setup.directory)/pid1.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.killAndReap() } }
        let records = try await setup.waitForRecords(timeout: 120) { $0.contains { $0.state == .succeeded } }
        #expect(records.first?.steps.first?.id.hasPrefix("hook:") == true)
        // The daemon: unshare's child, PID 1 inside.
        let daemon = try #require(ProcessTable.children(of: process.processIdentifier).first)
        try await setup.wait(timeout: 60, for: "the orphaned sleeps to be reaped") {
            ProcessTable.children(of: daemon).allSatisfy { !ProcessTable.isZombie($0) }
        }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(output.contains("Running as PID 1: orphaned processes handed to the daemon are reaped."), "\(output.suffix(2_000))")
        kill(daemon, SIGTERM)
        #expect(try await offPool { process.reap() } == 0, "\(output.suffix(2_000))")
    }

    // MARK: Load

    /// 200 API clients at once for 60 s while a backup runs: every answer is a 200.
    @Test(.timeLimit(.minutes(5))) func twoHundredConcurrentClientsForAMinuteDuringABackupGetNoError() async throws {
        // 8 MiB at 64 KiB/s: the backup outlasts the minute.
        let setup = try Setup(schedule: "1w", extraBackupYAML: "    limits: { upload: 64K }", sourceBytes: 8 << 20)
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        let running = try await setup.waitForRecords(timeout: 120) { records in
            records.contains { $0.state == .running && $0.steps.contains { $0.id == "backup:local" && $0.state == .running } }
        }
        let job = try #require(running.first { $0.state == .running }).id
        let paths = ["/health", "/status", "/jobs?limit=5", "/backups", "/jobs/\(job)", "/repositories"]
        let clients = 200
        let duration = 60.0
        let deadline = Date().addingTimeInterval(duration)
        let outcomes = try await withThrowingTaskGroup(of: (requests: Int, failures: [String]).self) { group in
            for client in 0..<clients {
                group.addTask {
                    try await offPool {
                        var requests = 0
                        var failures: [String] = []
                        while Date() < deadline {
                            let path = paths[(client + requests) % paths.count]
                            requests += 1
                            do {
                                let answer = try Self.api(setup, "GET", path, timeout: 60)
                                if answer?.status != 200 { failures.append("\(path): \(answer.map(String.init(describing:)) ?? "no answer")") }
                            } catch {
                                failures.append("\(path): \(error)")
                            }
                        }
                        return (requests, failures)
                    }
                }
            }
            var all: [(requests: Int, failures: [String])] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        let requests = outcomes.map(\.requests).reduce(0, +)
        let failures = outcomes.flatMap(\.failures)
        print("fault suite: \(clients) clients for \(Int(duration)) s during a backup: \(requests) requests, \(failures.count) errors")
        #expect(failures.isEmpty, "\(failures.count) errors, the first: \(failures.prefix(5))")
        #expect(requests >= clients)
        #expect(try await setup.records().first { $0.id == job }?.state == .running)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "\(daemon.output.suffix(3_000))")
        #expect(setup.locks.isEmpty)
    }
}
