import Foundation
import HenEngine
import HenTestSupport
import Testing

/// What the daemon checks before it touches anything: one daemon per data directory, a free API address,
/// engines that run; and `/metrics` as Prometheus' own linter reads it. The real binary, real restic.
@Suite(.serialized) struct DaemonStartTests {
    typealias Setup = DaemonEndToEndTests.Setup

    static func hen(_ arguments: [String]) async throws -> CommandLineTests.Run {
        try await CommandLineTests.hen(arguments)
    }

    /// A before hook that sleeps keeps the backup `running` for as long as the test needs.
    static let slowHook = """
            hooks:
              before:
                - command: ["/bin/sleep", "120"]
        """

    @Test func aSecondDaemonOnTheSameDataDirectoryStopsAtOnceAndChangesNothing() async throws {
        let setup = try Setup(schedule: "1h", shutdownGrace: "1s", extraBackupYAML: Self.slowHook)
        defer { setup.remove() }
        let first = try setup.startDaemon("first")
        defer { first.close() }
        try await RemoteCLIEndToEndTests.waitForAPI(setup, daemon: first)
        let before = try await setup.waitForRecords(timeout: 60) { $0.contains { $0.state == .running } }

        // The same configuration again: same data_dir (and same port, which must not be what stops it).
        let second = try setup.startDaemon("second")
        defer { second.close() }
        let status = await second.waitForExit(timeout: 30)
        #expect(status == 1, "second daemon output:\n\(second.output)")
        let expected = "The data directory \(setup.dataDirectory) is in use by another hen-backup (daemon, PID \(first.process.processIdentifier)); stop it first, or give this one its own data_dir."
        #expect(second.output.contains(expected), "\(second.output)")
        #expect(!second.output.contains("Daemon started"))
        #expect(!second.output.contains("listen"), "the port is not what stopped it: \(second.output)")

        // Nothing changed: the first daemon's job is still running, no unlock was queued, no record added.
        let after = try await setup.records()
        #expect(after.map(\.id) == before.map(\.id))
        #expect(after.first { $0.state == .running }?.id == before.first { $0.state == .running }?.id)
        #expect(!after.contains { $0.operation == "unlock" || $0.state == .interrupted })

        // An in-process job writes the store: refused the same way. Readers keep working beside the daemon.
        let local = try await Self.hen(["backup", "documents", "--local", "--config", setup.configPath])
        #expect(local.status == 1)
        #expect(local.stderr.contains("is in use by another hen-backup (daemon, PID \(first.process.processIdentifier))"), "\(local.stderr)")
        let jobs = try await Self.hen(["jobs", "--local", "--json", "--config", setup.configPath])
        #expect(jobs.status == 0, "\(jobs.stderr)")
        let listed = try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.count == before.count)
        let snapshots = try await Self.hen(["snapshots", "--local", "--config", setup.configPath])
        #expect(snapshots.status == 0, "\(snapshots.stderr)")

        first.signal(SIGTERM)
        #expect(await first.waitForExit(timeout: 30) == 0, "first daemon output:\n\(first.output)")
        // Once the first is gone (even without a clean stop, the kernel drops its claim), the next one starts.
        let third = try setup.startDaemon("third")
        defer { third.close() }
        try await RemoteCLIEndToEndTests.waitForAPI(setup, daemon: third)
        third.signal(SIGTERM)
        #expect(await third.waitForExit(timeout: 30) == 0, "third daemon output:\n\(third.output)")
    }

    @Test func aBusyPortIsOneSentenceBeforeAnyRecoveryWork() async throws {
        let setup = try Setup(schedule: "1h")
        defer { setup.remove() }
        // Someone else listens on the configured port.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(holder >= 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(setup.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(holder, 1) == 0)

        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        #expect(await daemon.waitForExit(timeout: 30) == 1, "\(daemon.output)")
        #expect(daemon.output.contains(
            "Cannot listen on 127.0.0.1:\(setup.port): the address is already in use, by another program or another hen-backup daemon; stop it, or set api.listen in \(setup.configPath) to a free address."
        ), "\(daemon.output)")
        #expect(!daemon.output.contains("errno"))
        #expect(!daemon.output.contains("Daemon started"))
        // No recovery work ran: no job was queued or recorded.
        #expect(try await setup.records().isEmpty)
    }

    @Test func anEngineThatCannotRunIsRefusedByConfigCheckAndTheDaemon() async throws {
        let setup = try Setup(schedule: "1h")
        defer { setup.remove() }
        let good = try await Self.hen(["config", "check", "--config", setup.configPath])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("Programs: restic 0.") && good.stdout.contains("(\(DaemonEndToEndTests.restic))"), "\(good.stdout)")

        // The same configuration with another restic, in a file of its own.
        func configuration(restic: String, named name: String) throws -> String {
            let path = setup.configPath + ".\(name).yml"
            try String(contentsOfFile: setup.configPath, encoding: .utf8)
                .replacingOccurrences(of: "restic: \(DaemonEndToEndTests.restic)", with: "restic: \(restic)")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        // A missing restic.
        let missing = try configuration(restic: "/nonexistent/restic", named: "missing")
        let check = try await Self.hen(["config", "check", "--config", missing])
        #expect(check.status == 1)
        #expect(check.stderr.contains("restic is not installed: install it, or fix executables.restic (/nonexistent/restic) (needed by repository local)."), "\(check.stderr)")
        let json = try await Self.hen(["config", "check", "--json", "--config", missing])
        #expect(json.status == 1)
        let verdict = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(verdict["valid"] as? Bool == false)
        #expect((verdict["program_errors"] as? [String])?.first?.contains("/nonexistent/restic") == true)
        let daemon = try DaemonProcess(arguments: ["daemon", "--config", missing], logPath: "\(setup.directory)/missing.log")
        defer { daemon.close() }
        #expect(await daemon.waitForExit(timeout: 30) == 1, "\(daemon.output)")
        #expect(daemon.output.contains("restic is not installed"), "\(daemon.output)")
        #expect(!FileManager.default.fileExists(atPath: setup.dataDirectory), "the refused daemon created its data directory")

        // A restic older than the oldest one supported, named with its version.
        let old = "\(setup.directory)/old-restic"
        try "#!/bin/sh\necho 'restic 0.12.1 compiled with go1.15.15 on linux/amd64'\n".write(toFile: old, atomically: true, encoding: .utf8)
        #expect(chmod(old, 0o755) == 0)
        let oldConfig = try configuration(restic: old, named: "old")
        let tooOld = try await Self.hen(["config", "check", "--config", oldConfig])
        #expect(tooOld.status == 1)
        #expect(tooOld.stderr.contains("\(old) is restic 0.12.1, older than 0.14.0, the oldest Hen Backup supports"), "\(tooOld.stderr)")
    }

    @Test func versionIsTheOneTheAPIReports() async throws {
        let run = try await Self.hen(["--version"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == HenVersion.current)
    }

    /// `promtool check metrics` (Debian's prometheus package, installed by `make test`) over a live
    /// `/metrics` after a backup, so that the job, backup and repository families are all there.
    @Test func promtoolAcceptsTheLiveMetrics() async throws {
        let promtool = "/usr/bin/promtool"
        #expect(FileManager.default.isExecutableFile(atPath: promtool), "promtool is missing: make test installs Debian's prometheus package")
        let setup = try Setup(schedule: "1h")
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        _ = try await setup.waitForRecords(timeout: 90) { $0.contains { $0.state == .succeeded } }
        let metrics = try await offPool { try runTool("/usr/bin/curl", ["-sSf", "-H", "Authorization: Bearer \(Setup.token)", "\(setup.url)/metrics"]) }
        #expect(metrics.contains("hen_jobs_total{"), "\(metrics)")
        let file = "\(setup.directory)/metrics.txt"
        try metrics.write(toFile: file, atomically: true, encoding: .utf8)
        let lint = try await offPool { try runTool("/bin/sh", ["-c", "\(promtool) check metrics < \(file) 2>&1; echo \"exit $?\""]) }
        #expect(lint.trimmingCharacters(in: .whitespacesAndNewlines) == "exit 0", "promtool findings:\n\(lint)")
        // Every family has its help text.
        for line in metrics.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let name = line.split(separator: " ")[2]
            #expect(metrics.contains("# HELP \(name) "), "no help for \(name)")
        }
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 30) == 0, "\(daemon.output)")
    }
}
