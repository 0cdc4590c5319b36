import Foundation
import HenAPI
import HenEngine
import HenJSON
import HenTestSupport
import Testing

/// The CLI against a real daemon over its API: commands go to the daemon when it answers, `--wait` and
/// `--follow` follow a job's events, SIGHUP and `config reload` refuse a broken file, and a read-only daemon
/// for another host browses, restores and checks that host's snapshots and refuses everything else.
@Suite(.serialized) struct RemoteCLIEndToEndTests {
    typealias Setup = DaemonEndToEndTests.Setup

    static func hen(_ arguments: [String]) async throws -> CommandLineTests.Run {
        try await CommandLineTests.hen(arguments)
    }

    /// Waits until the daemon's API answers `status`.
    static func waitForAPI(_ setup: Setup, daemon: DaemonProcess) async throws {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let run = try await hen(["status", "--remote", setup.url, "--token", Setup.token])
            if run.status == 0 { return }
            guard Date() < deadline, daemon.isRunning else {
                throw DaemonTestError("The API did not answer at \(setup.url): \(run.stderr)\nDaemon output:\n\(daemon.output.suffix(4_000))")
            }
            try await Task.sleep(for: .milliseconds(300))
        }
    }

    @Test func theCLIWorksThroughTheRunningDaemon() async throws {
        let setup = try Setup(schedule: "1w")
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        try await Self.waitForAPI(setup, daemon: daemon)
        // The scheduled first backup, so that the next one has a parent.
        _ = try await setup.waitForRecords(timeout: 90) { $0.contains { $0.state == .succeeded } }

        let status = try await Self.hen(["status", "--config", setup.configPath])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("Daemon \(setup.url): host e2e-host, mode normal"), "\(status.stdout)")
        #expect(!status.stderr.contains("running in this process"))
        let remoteStatus = try await Self.hen(["status", "--json", "--config", setup.configPath])
        #expect(remoteStatus.status == 0, "\(remoteStatus.stderr)")

        let backup = try await Self.hen(["backup", "documents", "--wait", "--config", setup.configPath])
        #expect(backup.status == 0, "\(backup.stdout)\n\(backup.stderr)")
        #expect(backup.stdout.contains("backup documents: succeeded"), "\(backup.stdout)")
        let records = try await setup.records()
        let cliJob = try #require(records.first { $0.trigger == .cli }, "\(records.map(\.trigger))")
        #expect(cliJob.state == .succeeded)
        #expect(cliJob.priority == .next)

        let follow = try await Self.hen(["job", cliJob.id, "--follow", "--config", setup.configPath])
        #expect(follow.status == 0)
        #expect(follow.stdout.contains("run: \(DaemonEndToEndTests.restic) backup"), "\(follow.stdout)")

        let jobs = try await Self.hen(["jobs", "--json", "--config", setup.configPath])
        let listed = try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.first?["id"] as? String == cliJob.id)

        let snapshots = try await Self.hen(["snapshots", "--config", setup.configPath])
        #expect(snapshots.stdout.contains(String(cliJob.results.first?.snapshotID?.prefix(8) ?? "?")), "\(snapshots.stdout)")
        // A backup's repositories as the daemon's configuration resolves them, and in this process the same rule.
        let ofBackup = try await Self.hen(["snapshots", "--backup", "documents", "--config", setup.configPath])
        #expect(ofBackup.stdout.hasPrefix("repository local:"), "\(ofBackup.stdout)\(ofBackup.stderr)")
        #expect(ofBackup.stdout.contains(String(cliJob.results.first?.snapshotID?.prefix(8) ?? "?")), "\(ofBackup.stdout)")
        let remoteUnknown = try await Self.hen(["snapshots", "--backup", "nope", "--config", setup.configPath])
        #expect(remoteUnknown.status == 1 && remoteUnknown.stderr.contains("no backup named nope"), "\(remoteUnknown.stderr)")
        let localUnknown = try await Self.hen(["snapshots", "--local", "--backup", "nope", "--config", setup.configPath])
        #expect(localUnknown.status == 1 && localUnknown.stderr.contains("There is no backup named nope (known: "), "\(localUnknown.stderr)")
        let ls = try await Self.hen(["ls", "local", "latest", "--config", setup.configPath])
        #expect(ls.stdout.contains("/source/notes/todo.txt"), "\(ls.stdout)\(ls.stderr)")

        // Queued without --wait: the job's id, and the daemon runs it.
        let queued = try await Self.hen(["backup", "documents", "--json", "--config", setup.configPath])
        let queuedRecord = try JSONSerialization.jsonObject(with: Data(queued.stdout.utf8)) as? [String: Any]
        let queuedID = try #require(queuedRecord?["id"] as? String, "\(queued.stdout)\(queued.stderr)")
        _ = try await setup.waitForRecords(timeout: 60) { $0.contains { $0.id == queuedID && $0.state.isFinished } }

        let unknown = try await Self.hen(["backup", "pictures", "--config", setup.configPath])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("pictures"), "\(unknown.stderr)")
        let wrongToken = try await Self.hen(["status", "--remote", setup.url, "--token", "not-the-right-token-at-all"])
        #expect(wrongToken.status == 1)
        #expect(wrongToken.stderr.contains("refused the credentials"), "\(wrongToken.stderr)")

        // A broken file is refused by SIGHUP and by `config reload`; the daemon goes on with the old one.
        let good = try String(contentsOfFile: setup.configPath, encoding: .utf8)
        try (good + "\nmax_concurrent_jobs: many\n").write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try await setup.wait(timeout: 30, for: "the SIGHUP refusal in the log") { daemon.output.contains("SIGHUP: the configuration file has errors") }
        let refused = try await Self.hen(["config", "reload", "--remote", setup.url, "--token", Setup.token])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("max_concurrent_jobs"), "\(refused.stderr)")
        #expect(refused.stderr.contains("config.yml:"), "\(refused.stderr)")
        try good.replacingOccurrences(of: "status_interval: 1s", with: "status_interval: 2s").write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        let reloaded = try await Self.hen(["config", "reload", "--config", setup.configPath])
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        #expect(reloaded.stdout.contains("changed status_interval"), "\(reloaded.stdout)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 30) == 0, "\(daemon.output.suffix(4_000))")
        #expect(!daemon.output.contains(Setup.token))
        #expect(!daemon.output.contains("correct horse battery staple"))

        // No daemon: the same command runs in this process, with a notice.
        let local = try await Self.hen(["status", "--config", setup.configPath])
        #expect(local.status == 0)
        #expect(local.stderr.contains("No daemon answers at \(setup.url); running in this process"), "\(local.stderr)")

        // `status --json` has one shape, the API's, whether the daemon answers or the engine runs here.
        let localStatus = try await Self.hen(["status", "--json", "--config", setup.configPath])
        #expect(localStatus.status == 0, "\(localStatus.stderr)")
        let shapes = try [remoteStatus.stdout, localStatus.stdout].map { text in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
            return object.keys.sorted()
        }
        #expect(shapes[0] == ["hostname", "max_concurrent_jobs", "mode", "next_runs", "now", "problems", "queued", "running", "started_at", "version", "watchers"])
        #expect(shapes[1] == shapes[0], "remote: \(remoteStatus.stdout)\nlocal: \(localStatus.stdout)")
        let answers = try [remoteStatus.stdout, localStatus.stdout].map { try HenJSON.decoder().decode(API.Status.self, from: Data($0.utf8)) }
        #expect(answers.map(\.hostname) == ["e2e-host", "e2e-host"])
        #expect(answers.map(\.mode) == ["normal", "normal"])
        #expect(answers[0].nextRuns.map(\.target) == answers[1].nextRuns.map(\.target))
    }

    @Test func aReadOnlyDaemonRecoversAnotherHostsFilesAndRefusesEveryWrite() async throws {
        let setup = try Setup(schedule: "1m")
        defer { setup.remove() }
        // The dead machine's snapshot, made by restic itself.
        let restic = DaemonEndToEndTests.restic
        let base = ["-r", setup.repository, "--password-file", setup.passwordFile, "--no-cache"]
        _ = try await offPool { try runTool(restic, base + ["init"]) }
        _ = try await offPool { try runTool(restic, base + ["backup", "--host", "dead-host", "--tag", "backup=documents", "\(setup.directory)/source"]) }
        _ = try await offPool { try runTool(restic, base + ["backup", "--host", "e2e-host", "--tag", "backup=documents", "\(setup.directory)/source/notes"]) }

        let daemon = try setup.startDaemon("recovery", ["--read-only", "--hostname", "dead-host"])
        defer { daemon.close() }
        try await Self.waitForAPI(setup, daemon: daemon)
        let status = try await Self.hen(["status", "--config", setup.configPath])
        #expect(status.stdout.contains("host dead-host, mode recovery"), "\(status.stdout)")
        #expect(status.stdout.contains("nothing is scheduled"), "\(status.stdout)")

        // Only dead-host's snapshot is visible.
        let snapshots = try await Self.hen(["snapshots", "--json", "--config", setup.configPath])
        let listed = try JSONSerialization.jsonObject(with: Data(snapshots.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(listed.count == 1, "\(snapshots.stdout)\(snapshots.stderr)")
        #expect(listed.first?["host"] as? String == "dead-host")
        let id = try #require(listed.first?["id"] as? String)

        for arguments in [["backup", "documents"], ["prune", "documents"]] {
            let refused = try await Self.hen(arguments + ["--config", setup.configPath])
            #expect(refused.status == 1, "\(arguments)")
            #expect(refused.stderr.contains("recovery mode"), "\(arguments): \(refused.stderr)")
        }

        let target = "\(setup.directory)/restores/recovered"
        let restore = try await Self.hen(["restore", "local", id, "--target", target, "--wait", "--config", setup.configPath])
        #expect(restore.status == 0, "\(restore.stdout)\(restore.stderr)")
        #expect(FileManager.default.fileExists(atPath: target + setup.directory + "/source/notes/todo.txt"))
        // A check reads the repository without a lock.
        let check = try await Self.hen(["check", "local", "--wait", "--config", setup.configPath])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 30) == 0)
        // Nothing was scheduled or written: the restore and the check are the only jobs, and the repository has
        // no new snapshot and no lock.
        let records = try await setup.records()
        #expect(records.map(\.operation).sorted() == ["check", "restore"])
        #expect(try setup.snapshots().count == 2)
        #expect(setup.locks.isEmpty)
    }
}
