import Foundation
import HenEngine
import HenTestSupport
import Testing

/// The database case of docker-compose.yml, without containers: Debian's PostgreSQL in a cluster of the
/// test's own, the example dump service (examples/pg-dump-service), and the real daemon whose backup has
/// an HTTP before-hook on the service with `on_failure: break`.
@Suite(.serialized) struct DatabaseDumpEndToEndTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let dumpService = "\(repositoryRoot)/examples/pg-dump-service/pg_dump_service.py"

    @Test func theSnapshotHoldsACompleteDumpAndAStoppedDatabaseStopsTheBackup() async throws {
        let dumpPort = try freeLoopbackPort()
        let setup = try DaemonEndToEndTests.Setup(schedule: "1w", extraBackupYAML: """
                hooks:
                  before:
                    - http: { url: "http://127.0.0.1:\(dumpPort)/dump", method: POST, timeout: 5m }
                      on_failure: break
            """)
        defer { setup.remove() }
        let database = try await offPool { try PostgresCluster(directory: "\(setup.directory)/postgres") }
        defer { database.close() }
        try await offPool {
            try database.start()
            _ = try database.sql("CREATE DATABASE shop")
            _ = try database.sql("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL); INSERT INTO orders (item) VALUES ('eggs'), ('flour');", database: "shop")
        }

        // The example service, as docker-compose.yml runs it, dumping into the backed-up directory.
        let dumps = "\(setup.directory)/source/db"
        let service = Process()
        service.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        service.arguments = [Self.dumpService]
        service.environment = ProcessInfo.processInfo.environment.merging(
            database.environment(database: "shop").merging(["DUMP_DIR": dumps, "LISTEN": "127.0.0.1:\(dumpPort)"]) { $1 }
        ) { $1 }
        let serviceLog = "\(setup.directory)/dump-service.log"
        _ = FileManager.default.createFile(atPath: serviceLog, contents: nil)
        service.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: serviceLog))
        service.standardOutput = FileHandle.nullDevice
        try service.run()
        defer { if service.isRunning { service.killAndReap() } }
        try await setup.wait(timeout: 120, for: "the dump service to answer") {
            (try? RawHTTP.request(port: dumpPort, "GET", "/health", timeout: 5))?.status == 200
        }

        // The weekly schedule has never run: the daemon backs up at start, after the hook's dump.
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        let first = try await setup.waitForRecords(timeout: 180) { $0.contains { $0.state == .succeeded } }
        let backup = try #require(first.first { $0.state == .succeeded })
        #expect(backup.steps.map(\.id).contains("backup:local"), "\(backup.steps.map(\.id))")
        let snapshots = try setup.snapshots()
        #expect(snapshots.count == 1)

        // The snapshot's dump is complete: pg_restore reads its table of contents.
        let restored = "\(setup.directory)/restored"
        let listing = try await offPool {
            _ = try runTool(DaemonEndToEndTests.restic, [
                "-r", setup.repository, "--password-file", setup.passwordFile, "--no-cache",
                "restore", "latest", "--target", restored, "--include", "\(dumps)/shop.dump",
            ])
            return try runTool("\(database.binaries)/pg_restore", ["--list", "\(restored)\(dumps)/shop.dump"])
        }
        #expect(listing.contains("TABLE public orders"), "\(listing)")
        #expect(listing.contains("TABLE DATA public orders"), "\(listing)")
        // No partial file is ever left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dumps) == ["shop.dump"])

        // With the database stopped the dump fails, so the hook fails and the backup does not run.
        try await offPool { try database.stop() }
        let answer = try await offPool {
            try RawHTTP.json(port: setup.port, "POST", "/api/v1/backups/documents/backup",
                             headers: [("Authorization", "Bearer \(DaemonEndToEndTests.Setup.token)")], json: "{}")
        }
        #expect(answer?.status == 202, "\(String(describing: answer))")
        let failed = try await waitForFailedRecord(setup)
        let error = try #require(failed.error)
        #expect(error.contains("http://127.0.0.1:\(dumpPort)/dump") && error.contains("500"), "\(error)")
        // One sentence: no line break, one final full stop.
        #expect(!error.contains("\n") && error.hasSuffix("."), "\(error)")
        #expect(!failed.steps.contains { $0.id == "backup:local" }, "\(failed.steps.map(\.id))")
        #expect(try setup.snapshots().count == 1)

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "daemon output:\n\(daemon.output.suffix(4_000))")
        service.interrupt()
        let serviceStatus = try await offPool { service.reap() }
        #expect(serviceStatus == 0, "dump service log:\n\((try? String(contentsOfFile: serviceLog, encoding: .utf8)) ?? "")")
    }

    /// Polls the job store until a backup job has failed (``Setup.waitForRecords`` throws on one).
    func waitForFailedRecord(_ setup: DaemonEndToEndTests.Setup) async throws -> JobRecord {
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            if let failed = try await setup.records().first(where: { $0.state == .failed }) { return failed }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw DaemonTestError("No backup job failed within 180s:\n\(setup.daemonLogsWithoutWatchdog.suffix(6_000))")
    }
}
