import Foundation
import HenDrivers
import Testing
@testable import HenEngine

@Suite struct EngineQueueingTests {
    @Test(arguments: [("fake-concurrent", true), ("fake", false)])
    func backupsShareARepositoryOnlyWhenTheDriverSaysSo(driver: String, together: Bool) async throws {
        let fixture = try EngineFixture(repositories: ["shared": driver], backups: EngineFixture.documentsAndPictures(documentsOn: "shared", picturesOn: "shared"), maxConcurrentJobs: 2)
        defer { fixture.close() }
        fixture.backend.setInitialized("shared")
        fixture.backend.block("shared", "backup")
        let engine = try fixture.makeEngine()
        let first = try await engine.backup("documents")
        let second = try await engine.backup("pictures")
        await fixture.backend.waitForCall("shared", "backup")
        if together {
            await fixture.backend.waitForCall("shared", "backup", count: 2)
            #expect(try await engine.job(id: second.id)?.state == .running)
        } else {
            #expect(try await engine.job(id: second.id)?.state == .queued)
            #expect(fixture.backend.calls("backup").count == 1)
        }
        fixture.backend.release("shared", "backup")
        #expect(try await engine.waitForCompletion(jobID: first.id).state == .succeeded)
        #expect(try await engine.waitForCompletion(jobID: second.id).state == .succeeded)
    }

    @Test func aCheckWaitsForTheBackupOnItsRepositoryAndAnOnIdleJobForEverything() async throws {
        let fixture = try EngineFixture(repositories: ["local": "fake-concurrent", "usb": "fake"], backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"]),
        ], maxConcurrentJobs: 3)
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.setInitialized("usb")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let backup = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let check = try await engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .api, priority: .immediate))
        let idle = try await engine.submit(JobRequest(operation: .check(repository: "usb", readDataSubset: nil), trigger: .api, priority: .onIdle))
        #expect(try await engine.job(id: check.id)?.state == .queued)
        #expect(try await engine.job(id: idle.id)?.state == .queued)
        let status = await engine.status()
        #expect(status.queued.map(\.id) == [check.id, idle.id])
        #expect(status.running.map(\.record.id) == [backup.id])
        fixture.backend.release("local", "backup")
        #expect(try await engine.waitForCompletion(jobID: idle.id).state == .succeeded)
        #expect(fixture.backend.calls.filter { $0.operation != "isInitialized" }.map { "\($0.operation) \($0.repository)" } == ["backup local", "check local", "check usb"])
    }

    @Test func statusShowsTheJobsOfAnotherProcessSharingTheStore() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let daemon = try fixture.makeEngine()
        let running = try await daemon.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let queued = try await daemon.submit(JobRequest(operation: .unlock(repository: "usb"), trigger: .api))
        _ = try await daemon.jobs(JobFilter())

        let cli = try fixture.makeEngine()
        let status = await cli.status()
        #expect(status.running.map(\.record.id) == [running.id])
        #expect(status.queued.map(\.id) == [queued.id])
        #expect(try await cli.job(id: running.id)?.steps.last?.id == "backup:local")
        await #expect(throws: EngineError.self) { try await cli.cancel(jobID: running.id) }
        fixture.backend.release("local", "backup")
        _ = try await daemon.waitForCompletion(jobID: queued.id)
    }

    @Test func recoveryModeRefusesWritesAndSchedulesNothing() async throws {
        var fixture = try EngineFixture(backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"], schedules: [try Schedule.parse("1h")]),
        ]) { $0.mode = .recovery }
        defer { fixture.close() }
        fixture.configuration.restore = .init(allowedTargets: [fixture.directory + "/restores"])
        let engine = try fixture.makeEngine()
        await #expect(throws: EngineError.self) { try await engine.backup("documents") }
        await #expect(throws: EngineError.self) { try await engine.submit(JobRequest(operation: .unlock(repository: "local"), trigger: .api)) }
        #expect(try await engine.plannedRuns().isEmpty)
        #expect(try await engine.submitDueJobs().isEmpty)
        let restore = try await engine.submit(JobRequest(operation: .restore(repository: "local", snapshot: "abc", target: fixture.directory + "/restores/out", includes: ["/data/a"]), trigger: .ui))
        #expect(try await engine.waitForCompletion(jobID: restore.id).results.first?.filesRestored == 2)
    }

    @Test func historyRetentionRunsAtStart() async throws {
        let fixture = try EngineFixture { $0.jobHistory = .init(keep: .seconds(86_400), maxJobs: 2) }
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        let engine = try fixture.makeEngine()
        var ids: [String] = []
        for _ in 0..<4 {
            ids.append(try await engine.waitForCompletion(jobID: engine.backup("documents").id).id)
            fixture.clock.advance(by: .seconds(3_600))
        }
        let restarted = try fixture.makeEngine()
        #expect(try await restarted.recover().deleted == 2)
        #expect(try await restarted.jobs(JobFilter()).map(\.id) == [ids[3], ids[2]])
        // Now 4h after the first job; a day after 2h30 only the job that ended at 3h is younger than `keep`.
        fixture.clock.advance(by: .seconds(81_000))
        #expect(try await restarted.enforceHistoryRetention() == 1)
        #expect(try await restarted.jobs(JobFilter()).map(\.id) == [ids[3]])
    }
}
