import Foundation
import HenDrivers
import HenJSON
import Logging
import Testing
@testable import HenEngine

@Suite struct EngineBackupTests {
    @Test func backupInitializesAMissingRepositoryThenBacksUpWithTagsAndLimits() async throws {
        let fixture = try EngineFixture(repositories: ["local": "fake"], backups: [
            Configuration.Backup(name: "documents", paths: ["/data/docs"], excludes: ["*.tmp"], repositories: ["local"], limits: TransferLimits(uploadBytesPerSecond: 500)),
        ]) { configuration in
            configuration.repositories["local"]?.limits = TransferLimits(uploadBytesPerSecond: 900, downloadBytesPerSecond: 100)
            configuration.limits = TransferLimits(uploadBytesPerSecond: 2_000, downloadBytesPerSecond: 50)
        }
        defer { fixture.close() }
        let engine = try fixture.makeEngine()
        let queued = try await engine.backup("documents", trigger: .cli)
        let record = try await engine.waitForCompletion(jobID: queued.id)

        #expect(record.state == .succeeded)
        #expect(record.error == nil)
        // The backup found the repository missing, created it in a step of its own, and tried once more.
        #expect(record.steps.map(\.id) == ["backup:local", "init:local"])
        #expect(fixture.backend.calls.map(\.operation).filter { $0 != "initialize" } == ["backup"])
        #expect(record.steps.allSatisfy { $0.state == .succeeded && $0.startedAt != nil && $0.endedAt != nil })
        let backup = try #require(fixture.backend.calls("backup").first)
        #expect(backup.tags == ["backup=documents", "job=\(record.id)"])
        #expect(backup.paths == ["/data/docs"])
        #expect(backup.limits == TransferLimits(uploadBytesPerSecond: 500, downloadBytesPerSecond: 50))
        // The init step inside the backup job is throttled like the backup, not by the global limits alone.
        let initialize = try #require(fixture.backend.calls("initialize").first)
        #expect(initialize.limits == TransferLimits(uploadBytesPerSecond: 500, downloadBytesPerSecond: 50))
        #expect(backup.hostname == "testhost")
        #expect(record.results.count == 1)
        #expect(record.results.first?.snapshotID?.hasPrefix("00000001") == true)
        #expect(record.results.first?.bytesAdded == 2048)

        // The store has the same final record, and the JSON keys scripts rely on.
        let stored = try #require(try await engine.store.record(id: record.id))
        #expect(stored.state == .succeeded)
        #expect(stored.steps == record.steps)
        #expect(stored.trigger == .cli)
        let json = try JSONSerialization.jsonObject(with: HenJSON.encoder().encode(stored)) as? [String: Any]
        for key in ["id", "operation", "target", "trigger", "priority", "state", "queued_at", "started_at", "ended_at", "warnings", "error", "steps", "progress", "results", "log"] {
            #expect(json?.keys.contains(key) == true, "missing \(key)")
        }
        #expect(json?["operation"] as? String == "backup")
        #expect(json?["target"] as? String == "documents")
        #expect(json?["priority"] as? String == "normal")
        let decoded = try HenJSON.decoder().decode(JobRecord.self, from: HenJSON.encoder().encode(stored))
        #expect(decoded.id == stored.id && decoded.steps == stored.steps && decoded.results == stored.results)
    }

    /// Limits apply to every operation: a prune gets the backup's, the repository's and the global limits
    /// (the smallest per direction), a check the repository's and the global ones.
    @Test func pruneAndCheckGetTheCombinedLimitsToo() async throws {
        let fixture = try EngineFixture(repositories: ["local": "fake"], backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"], limits: TransferLimits(uploadBytesPerSecond: 500), retention: RetentionPolicy(keepLast: 1)),
        ]) { configuration in
            configuration.repositories["local"]?.limits = TransferLimits(uploadBytesPerSecond: 900, downloadBytesPerSecond: 100)
            configuration.limits = TransferLimits(downloadBytesPerSecond: 50)
        }
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        let engine = try fixture.makeEngine()
        _ = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .api)).id)
        _ = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .api)).id)
        #expect(fixture.backend.calls("forget").map(\.limits) == [TransferLimits(uploadBytesPerSecond: 500, downloadBytesPerSecond: 50)])
        #expect(fixture.backend.calls("check").map(\.limits) == [TransferLimits(uploadBytesPerSecond: 900, downloadBytesPerSecond: 50)])
    }

    @Test func oneRepositoryFailingDoesNotStopTheOthers() async throws {
        let fixture = try EngineFixture(repositories: ["local": "fake", "usb": "fake", "cloud": "fake"], backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local", "usb", "cloud"]),
        ])
        defer { fixture.close() }
        for name in ["local", "usb", "cloud"] { fixture.backend.setInitialized(name) }
        fixture.backend.fail("usb", "backup", DriverError(.backendUnreachable, "Repository usb cannot be reached at /mnt/usb.", repository: "usb"))
        let engine = try fixture.makeEngine()
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)

        #expect(record.state == .failed)
        #expect(record.error == "Repository usb cannot be reached at /mnt/usb.")
        #expect(record.steps.map(\.state) == [.succeeded, .failed, .succeeded])
        #expect(fixture.backend.finished.filter { $0.operation == "backup" }.map(\.repository) == ["local", "cloud"])
        #expect(record.results.map(\.repository) == ["local", "cloud"])
    }

    @Test func aMissingRepositoryWithoutAutoInitFailsItsStep() async throws {
        let fixture = try EngineFixture { $0.repositories["local"]?.autoInit = false }
        defer { fixture.close() }
        let engine = try fixture.makeEngine()
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .failed)
        #expect(record.error?.contains(#"Repository "local" does not exist and auto_init is false"#) == true)
        #expect(fixture.backend.calls("initialize").isEmpty)
        #expect(fixture.backend.calls("backup").isEmpty)
    }

    @Test func driverWarningsEndInTheWarningState() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.warnOnBackup(["/data/locked.db: permission denied"])
        let engine = try fixture.makeEngine()
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .warning)
        #expect(record.warnings == ["/data/locked.db: permission denied"])
        #expect(record.steps.last?.state == .warning)
    }

    @Test func pruneForgetsByRetentionLimitedToTheBackupTagThenPrunes() async throws {
        let retention = RetentionPolicy(keepLast: 3, keepDaily: 7)
        let fixture = try EngineFixture(backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local", "usb"], retention: retention),
        ])
        defer { fixture.close() }
        let engine = try fixture.makeEngine()
        let record = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .api)).id)
        #expect(record.state == .succeeded)
        #expect(record.operation == "prune")
        let forgets = fixture.backend.calls("forget")
        #expect(forgets.map(\.repository) == ["local", "usb"])
        #expect(forgets.allSatisfy { $0.forget == ForgetRequest(selection: .policy(retention), tags: ["backup=documents"], prune: true) })
        #expect(record.results.map(\.snapshotsRemoved) == [["b", "c"], ["b", "c"]])
        // Its first use of the (auto_init) repositories created them.
        #expect(record.steps.map(\.id) == ["prune:local", "init:local", "prune:usb", "init:usb"])
    }

    @Test func aCheckOfAMissingRepositoryCreatesItWhenAllowedAndSaysSoOtherwise() async throws {
        let fixture = try EngineFixture(repositories: ["local": "fake", "usb": "fake"], backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local", "usb"]),
        ]) { $0.repositories["usb"]?.autoInit = false }
        defer { fixture.close() }
        let engine = try fixture.makeEngine()
        let created = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .schedule("1w"))).id)
        #expect(created.state == .succeeded)
        #expect(created.steps.map(\.id) == ["check:local", "init:local"])
        let refused = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .check(repository: "usb", readDataSubset: nil), trigger: .schedule("1w"))).id)
        #expect(refused.state == .failed)
        #expect(refused.error?.contains(#"Repository "usb" does not exist and auto_init is false"#) == true)
        #expect(fixture.backend.calls("check").map(\.repository) == ["local"])
    }

    @Test func checkUsesTheConfiguredReadDataSubset() async throws {
        let fixture = try EngineFixture { $0.repositories["local"]?.check = .init(schedules: [], readDataSubset: "5%") }
        defer { fixture.close() }
        let engine = try fixture.makeEngine()
        let configured = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .api)).id)
        let explicit = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: "1/10"), trigger: .api)).id)
        #expect(configured.state == .succeeded && explicit.state == .succeeded)
        #expect(fixture.backend.calls("check").map(\.readDataSubset) == ["5%", "1/10"])
    }

    @Test func requestsThatDoNotFitTheConfigurationAreRefused() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.configuration.restore = .init(allowedTargets: [fixture.directory + "/restore"])
        let engine = try fixture.makeEngine()
        await #expect(throws: EngineError.self) { try await engine.backup("nope") }
        await #expect(throws: EngineError.self) { try await engine.backup("documents", repositories: ["usb"]) }
        await #expect(throws: EngineError.self) { try await engine.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .api)) }
        await #expect(throws: EngineError.self) {
            try await engine.submit(JobRequest(operation: .restore(repository: "local", snapshot: "abc", target: "/etc", includes: []), trigger: .api))
        }
        let restore = try await engine.submit(JobRequest(operation: .restore(repository: "local", snapshot: "abc", target: fixture.directory + "/restore/x", includes: []), trigger: .api))
        #expect(try await engine.waitForCompletion(jobID: restore.id).state == .succeeded)
    }

    @Test func aRestoreThatFailsPartlyPutsWhatItRestoredInPlace() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.configuration.restore = .init(allowedTargets: [fixture.directory + "/restore"])
        fixture.backend.setInitialized("local")
        // restic 0.14 exits 1 after restoring everything but one file.
        fixture.backend.writeOnRestore(["data/a.txt": "a", "data/deep/b.txt": "b"])
        fixture.backend.fail("local", "restore", DriverError(.failed, "restic restore of repository local exited with status 1.", repository: "local", detail: "lchown data/c.txt: operation not permitted"))
        let engine = try fixture.makeEngine()
        let target = fixture.directory + "/restore/x"
        let job = try await engine.submit(JobRequest(operation: .restore(repository: "local", snapshot: "abc", target: target, includes: []), trigger: .api))
        let record = try await engine.waitForCompletion(jobID: job.id)

        #expect(record.state == .failed)
        #expect(record.error?.contains("exited with status 1") == true, "\(String(describing: record.error))")
        #expect(record.error?.contains("Whatever was restored before the failure is in place in \(target).") == true, "\(String(describing: record.error))")
        #expect(record.log.contains { $0.message.contains("lchown data/c.txt") })
        #expect(try String(contentsOfFile: target + "/data/a.txt", encoding: .utf8) == "a")
        #expect(try String(contentsOfFile: target + "/data/deep/b.txt", encoding: .utf8) == "b")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["data"])
    }

    @Test func aStoppedRestoreWritesNothing() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.configuration.restore = .init(allowedTargets: [fixture.directory + "/restore"])
        fixture.backend.setInitialized("local")
        fixture.backend.writeOnRestore(["data/a.txt": "a"])
        fixture.backend.block("local", "restore")
        let engine = try fixture.makeEngine()
        let target = fixture.directory + "/restore/x"
        let job = try await engine.submit(JobRequest(operation: .restore(repository: "local", snapshot: "abc", target: target, includes: []), trigger: .api))
        await fixture.backend.waitForCall("local", "restore")
        _ = try await engine.cancel(jobID: job.id)
        #expect(try await engine.waitForCompletion(jobID: job.id).state == .cancelled)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }

    @Test func dedupAnswersWithTheQueuedJob() async throws {
        let fixture = try EngineFixture(backups: EngineFixture.documentsAndPictures())
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.setInitialized("usb")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let running = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let first = try await engine.backup("pictures", priority: .inferior)
        let second = try await engine.backup("pictures", priority: .superior)
        #expect(first.id == second.id)
        #expect(second.priority == .superior)
        #expect(second.state == .queued)
        // The running one is not queued: a new request for it is a new job.
        let again = try await engine.backup("documents")
        #expect(again.id != running.id)
        #expect(try await engine.jobs(JobFilter(states: [.queued])).map(\.id).sorted() == [first.id, again.id].sorted())
        fixture.backend.release("local", "backup")
        #expect(try await engine.waitForCompletion(jobID: again.id).state == .succeeded)
        #expect(try await engine.waitForCompletion(jobID: first.id).state == .succeeded)
        #expect(fixture.backend.calls("backup").map(\.repository) == ["local", "usb", "local"])
    }

    @Test func progressIsThrottledToAboutOncePerSecond() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.reportProgress(50)
        let engine = try fixture.makeEngine()
        let events = await engine.events(jobID: nil)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        var progressEvents = 0
        var logLines = 0
        for await event in events {
            if case .progress = event { progressEvents += 1 }
            if case .log = event { logLines += 1 }
            if case .state(_, let state, _) = event, state.isFinished { break }
        }
        // Time stands still in this test: 50 reports, one event.
        #expect(progressEvents == 1)
        #expect(logLines == 1)
        #expect(record.progress?.fraction == 1.0)
        #expect(record.lastReportAt != nil)
        #expect(record.log.map(\.message) == ["backing up /home/me/documents"])
    }

    /// The driver's progress reaches the log sampled (one debug line per 30 seconds), not line by line.
    @Test func progressIsSampledInTheLog() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.reportProgress(50)
        let captured = JobLogIdentityTests.CapturedLines()
        let output = captured.output
        let logger = Logger(label: "hen.engine") { HenLogHandler(label: $0, format: .json, level: .debug, output: output) }
        let clock = fixture.clock
        let engine = Engine(
            configuration: fixture.configuration, registry: fixture.backend.registry(), store: try JobStore(dataDirectory: fixture.configuration.dataDirectory),
            clock: clock, now: { clock.date }, logger: logger
        )
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .succeeded)
        let progressLines = captured.all.filter { $0.contains(#""message":"progress""#) }
        // Time stands still: 50 reports, one line, with the job's identity and the numbers as fields.
        #expect(progressLines.count == 1, "\(progressLines)")
        #expect(progressLines.first?.contains(#""job_id":"\#(record.id)""#) == true)
        #expect(progressLines.first?.contains(#""component":"driver""#) == true)
    }

    @Test func progressWritesToTheStoreAreThrottledAndTheWatchdogCatchesUp() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.reportProgress(50)
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let events = await engine.events(jobID: nil)
        let job = try await engine.backup("documents")
        // The driver's log line comes after its 50 progress reports: once it is seen, all were applied.
        for await event in events {
            if case .log = event { break }
        }
        #expect(try await engine.job(id: job.id)?.progress?.fraction == 1.0)
        _ = try await engine.jobs(JobFilter())
        // Time stands still: nothing but the step's start was written.
        #expect(try await engine.store.record(id: job.id)?.progress == nil)
        #expect(try await engine.store.record(id: job.id)?.steps.last?.state == .running)
        fixture.clock.advance(by: .seconds(1))
        _ = await engine.watchdogTick()
        _ = try await engine.jobs(JobFilter())
        #expect(try await engine.store.record(id: job.id)?.progress?.fraction == 1.0)
        #expect(try await engine.store.record(id: job.id)?.log.count == 1)
        fixture.backend.release("local", "backup")
        #expect(try await engine.waitForCompletion(jobID: job.id).state == .succeeded)
    }
}
