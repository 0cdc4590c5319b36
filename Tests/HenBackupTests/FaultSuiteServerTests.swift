import Foundation
import HenEngine
import HenTestSupport
import Testing

/// Storage servers stopped in the middle of a job: the REST server (rclone serve restic) and the S3 server
/// (moto), each during a backup and during a prune. The job fails after its retries with one sentence, the daemon stays
/// up, the queue moves on, and the next run succeeds once the server is back. restic 0.14 itself retries a
/// lost server for about two and a half minutes before it gives up: each scenario lasts that long, so they
/// run beside the serialized fault suite rather than after it.
@Suite struct FaultSuiteServerTests {
    typealias Setup = DaemonEndToEndTests.Setup

    /// A server on 127.0.0.1 that the test stops and starts again on the same port.
    final class Server: @unchecked Sendable {
        // @unchecked: `process` is replaced only by the test's own task, between awaits.
        let executable: String
        let arguments: [String]
        let port: Int
        let logPath: String
        var process: Process?

        init(_ executable: String, _ arguments: [String], port: Int, logPath: String) {
            self.executable = executable
            self.arguments = arguments
            self.port = port
            self.logPath = logPath
        }

        func start() async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
            if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            _ = try log.seekToEnd()
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            self.process = process
            // moto imports boto and flask: over 30 s on a loaded machine.
            let deadline = Date().addingTimeInterval(120)
            while !Self.isListening(port) {
                guard Date() < deadline, process.isRunning else { throw DaemonTestError("\(executable) did not listen on \(port): \(String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self).suffix(2_000))") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func stop() async throws {
            guard let process else { return }
            try await offPool { process.killAndReap() }
            self.process = nil
        }

        static func isListening(_ port: Int) -> Bool {
            (try? RawHTTPConnection(port: port, timeout: 2)) != nil
        }
    }

    static func waitForJob(_ setup: Setup, _ id: String, timeout: Double = 600) async throws -> JobRecord {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let record = try await setup.records().first(where: { $0.id == id }), record.state.isFinished { return record }
            guard Date() < deadline else { throw DaemonTestError("Job \(id) did not end within \(timeout)s:\n\(setup.daemonLogsWithoutWatchdog.suffix(4_000))") }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// One outage: `operation` (`backup` or `prune`) on the `remote` repository served by `server`, the
    /// server stopped `stopAfter` into the job's step, then started again.
    static func outage(_ operation: String, server: Server, setup: Setup, stopAfter: Duration) async throws {
        try await server.start()
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        try await FaultSuiteTests.waitForAPI(setup, daemon)
        // The weekly backup that never ran runs at start and creates the repository.
        let first = try await setup.waitForRecords(timeout: 180) { $0.contains { $0.operation == "backup" && $0.state.isFinished } }
        #expect(first.first { $0.operation == "backup" }?.state == .succeeded)

        if operation == "backup" {
            // New data, or the backup would upload nothing (the first run stored the rest) and end before
            // the outage: 3 MiB at 256 KiB/s keeps restic uploading for about twelve seconds.
            var generator = SystemRandomNumberGenerator()
            let words = (0..<((3 << 20) / 8)).map { _ in generator.next() as UInt64 }
            try words.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: "\(setup.directory)/source/fresh.bin"))
        }
        let path = operation == "prune" ? "/backups/documents/prune" : "/backups/documents/backup"
        let id = try FaultSuiteTests.jobID(try await offPool { try FaultSuiteTests.api(setup, "POST", path, json: "{}") })
        // A job queued behind it on another repository: the queue must move on after the failure.
        let behind = try FaultSuiteTests.jobID(try await offPool { try FaultSuiteTests.api(setup, "POST", "/backups/notes/backup", json: "{}") })
        if operation == "prune" {
            // The prune of one small snapshot is over before a poll can see it run: its `before` hook holds
            // the job until the server is down, and the prune step then meets the outage.
            _ = try await setup.waitForRecords(timeout: 120) { records in records.contains { $0.id == id && $0.state == .running } }
            try await server.stop()
            try Data().write(to: URL(fileURLWithPath: "\(setup.directory)/go"))
        } else {
            _ = try await setup.waitForRecords(timeout: 120) { records in
                records.contains { $0.id == id && $0.steps.contains { $0.id == "\(operation):remote" && $0.state == .running } }
            }
            try await Task.sleep(for: stopAfter)
            try await server.stop()
        }

        let failed = try await waitForJob(setup, id)
        #expect(failed.state == .failed, "\(failed.state) \(failed.error ?? "")")
        let message = failed.error ?? ""
        #expect(message.contains("Repository \"remote\"") && message.hasSuffix("(tried 2 times)."), "\(message)")
        #expect(!message.contains("\n"))
        #expect(failed.steps.contains { $0.id.hasSuffix("#2") })
        #expect(try await waitForJob(setup, behind).state == .succeeded)
        #expect(daemon.isRunning)

        // The server is back: the next run succeeds (any stale lock of the lost run is removed by restic's
        // unlock-and-retry).
        try await server.start()
        let again = try FaultSuiteTests.jobID(try await offPool { try FaultSuiteTests.api(setup, "POST", path, json: "{}") })
        let recovered = try await waitForJob(setup, again)
        #expect(recovered.state == .succeeded, "\(recovered.error ?? "")")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "\(daemon.output.suffix(3_000))")
        try await server.stop()
    }

    static func setup(location: String, environment: String = "") throws -> Setup {
        try Setup(
            schedule: "1w",
            extraBackupYAML: """
                    limits: { upload: 256K }
                    retention: { keep_last: 1 }
                    prune: { hooks: { before: [{ command: ["/bin/sh", "-c", "while [ ! -e GO_FILE ]; do sleep 0.1; done"] }] } }
                  notes:
                    paths: [NOTES_PATH]
                    repositories: [local]
                """,
            sourceBytes: 3 << 20,
            extraYAML: "retry: { attempts: 2, backoff: 1s, max_backoff: 1s }",
            repositoriesYAML: """
                  remote:
                    location: \(location)
                    password_file: PASSWORD_FILE
                \(environment)
                """
        )
    }

    /// The REST server (rclone serve restic) on an ephemeral port, with its set-up; rclone keeps what it
    /// serves on disk, so the restarted server has the repository again.
    static func restServer() throws -> (Setup, Server) {
        let port = try freeLoopbackPort()
        let setup = try Self.setup(location: "rest:http://127.0.0.1:\(port)/")
        try setup.useRemoteRepository()
        let served = "\(setup.directory)/served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        return (setup, Server("rclone", ["serve", "restic", "--addr", "127.0.0.1:\(port)", "--config", "/dev/null", served], port: port, logPath: "\(setup.directory)/rclone.log"))
    }

    /// The S3 server (moto) on an ephemeral port, with its set-up. moto keeps its buckets in memory: the
    /// restarted server is empty, so the run after the outage goes to a fresh repository (auto_init creates
    /// it). The outage itself is what is tested.
    static func s3Server() throws -> (Setup, Server) {
        let port = try freeLoopbackPort()
        let credentials = "    env: { AWS_ACCESS_KEY_ID: hen-test-key, AWS_SECRET_ACCESS_KEY: hen-test-secret, AWS_DEFAULT_REGION: us-east-1 }"
        let setup = try Self.setup(location: "s3:http://127.0.0.1:\(port)/hen-bucket", environment: credentials)
        try setup.useRemoteRepository()
        return (setup, Server("moto_server", ["-H", "127.0.0.1", "-p", String(port)], port: port, logPath: "\(setup.directory)/moto.log"))
    }

    // 3 MiB at 256 KiB/s: restic is uploading when the server goes, two seconds into the backup step. A
    // prune is stopped while its `before` hook holds the job (see `outage`).

    @Test(.timeLimit(.minutes(15))) func theRESTServerStoppedMidBackup() async throws {
        let (setup, server) = try Self.restServer()
        defer { server.process?.killAndReap(); setup.remove() }
        try await Self.outage("backup", server: server, setup: setup, stopAfter: .seconds(2))
    }

    @Test(.timeLimit(.minutes(15))) func theRESTServerStoppedMidPrune() async throws {
        let (setup, server) = try Self.restServer()
        defer { server.process?.killAndReap(); setup.remove() }
        try await Self.outage("prune", server: server, setup: setup, stopAfter: .zero)
    }

    @Test(.timeLimit(.minutes(15))) func theS3ServerStoppedMidBackup() async throws {
        let (setup, server) = try Self.s3Server()
        defer { server.process?.killAndReap(); setup.remove() }
        try await Self.outage("backup", server: server, setup: setup, stopAfter: .seconds(2))
    }

    @Test(.timeLimit(.minutes(15))) func theS3ServerStoppedMidPrune() async throws {
        let (setup, server) = try Self.s3Server()
        defer { server.process?.killAndReap(); setup.remove() }
        try await Self.outage("prune", server: server, setup: setup, stopAfter: .zero)
    }
}

extension DaemonEndToEndTests.Setup {
    /// The `remote` repository takes the backup `documents` (the `notes` backup stays on `local`).
    func useRemoteRepository() throws {
        var yaml = try String(contentsOfFile: configPath, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "PASSWORD_FILE", with: passwordFile)
        yaml = yaml.replacingOccurrences(of: "NOTES_PATH", with: "\(directory)/source/notes")
        yaml = yaml.replacingOccurrences(of: "GO_FILE", with: "\(directory)/go")
        yaml = yaml.replacingOccurrences(of: "    repositories: [local]\n    limits", with: "    repositories: [remote]\n    limits")
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }
}
