import Foundation
import HenDrivers
import Testing
@testable import HenEngine

@Suite struct EngineRecoveryTests {
    private static func hourly(_ name: String = "documents", repositories: [String] = ["local"]) throws -> Configuration.Backup {
        Configuration.Backup(name: name, paths: ["/data"], repositories: repositories, schedules: [try Schedule.parse("1h")])
    }

    @Test func aMissedRunHappensOnceAtStartAndTheNextAfterTheSpan() async throws {
        let fixture = try EngineFixture(backups: [try Self.hourly()])
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        let engine = try fixture.makeEngine()

        var plan = try await engine.plannedRuns()
        #expect(plan.map(\.reason) == ["never run, every 1h → now"])
        let first = try await engine.submitDueJobs()
        #expect(first.map(\.trigger) == [.schedule("every 1h")])
        _ = try await engine.waitForCompletion(jobID: first[0].id)

        // The daemon was down for 5 hours: one run at start, not five.
        fixture.clock.advance(by: .seconds(5 * 3_600))
        plan = try await engine.plannedRuns()
        #expect(plan.map(\.reason) == ["last run 5h ago, every 1h → now"])
        let caughtUp = try await engine.submitDueJobs()
        #expect(caughtUp.count == 1)
        #expect(try await engine.submitDueJobs().isEmpty)
        _ = try await engine.waitForCompletion(jobID: caughtUp[0].id)
        #expect(try await engine.submitDueJobs().isEmpty)
        plan = try await engine.plannedRuns()
        #expect(plan.first?.date == fixture.clock.date.addingTimeInterval(3_600))
        #expect(plan.first?.reason.hasPrefix("last run 0s ago, every 1h → ") == true)
        #expect(plan.first?.reason.hasSuffix("(in 1h)") == true)
        #expect(fixture.backend.calls("backup").count == 2)
    }

    @Test func theSchedulerServiceRunsDueJobsOnTheInjectedClock() async throws {
        let fixture = try EngineFixture(backups: [
            try Self.hourly(),
            Configuration.Backup(name: "pictures", paths: ["/pics"], repositories: ["usb"], schedules: [try Schedule.parse("0 30 2 * * *")]),
        ])
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.setInitialized("usb")
        let engine = try fixture.makeEngine()
        let clock = fixture.clock
        let scheduler = SchedulerService(engine: engine, clock: clock, now: { clock.date }, logger: fixture.logger, maximumSleep: .seconds(600))
        let task = Task { try await scheduler.run() }
        defer { task.cancel() }

        await clock.waitForSleepers(1)
        #expect(try await engine.jobs(JobFilter()).map(\.target) == ["documents"])
        // The fixture's clock starts at 2026-09-21 14:13:20 UTC: the cron backup is due at 02:30:20… next day.
        let pictures = try #require(try await engine.plannedRuns().first { $0.target == "pictures" })
        #expect(pictures.reason.hasPrefix("never run, cron \"0 30 2 * * *\" → 2026-09-22 02:30:00"))
        for _ in 0..<6 {
            clock.advance(by: .seconds(600))
            await clock.waitForSleepers(1)
        }
        let backups = try await engine.jobs(JobFilter(operation: .backup))
        #expect(backups.filter { $0.target == "documents" }.count == 2)
        #expect(backups.filter { $0.target == "pictures" }.isEmpty)
        for _ in 0..<72 {
            clock.advance(by: .seconds(600))
            await clock.waitForSleepers(1)
        }
        #expect(try await engine.jobs(JobFilter(target: "pictures")).count == 1)
    }

    @Test func aJobLeftRunningByACrashIsInterruptedItsRepositoryUnlockedAndItRunsAgain() async throws {
        let fixture = try EngineFixture(backups: [try Self.hourly()])
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let crashed = try fixture.makeEngine()
        let started = try #require(try await crashed.submitDueJobs().first)
        await fixture.backend.waitForCall("local", "backup")
        #expect(try await crashed.job(id: started.id)?.state == .running)
        _ = try await crashed.jobs(JobFilter())  // what a process wrote before it died is in the store
        // The first engine "dies" here: its job never finishes. A new one opens the same store.

        let restarted = try fixture.makeEngine()
        fixture.clock.advance(by: .seconds(60))
        let recovery = try await restarted.recover()
        #expect(recovery.interrupted == [started.id])
        #expect(recovery.unlocks.count == 1)
        let interrupted = try #require(try await restarted.job(id: started.id))
        #expect(interrupted.state == .interrupted)
        #expect(interrupted.steps.last?.state == .cancelled)
        let unlock = try await restarted.waitForCompletion(jobID: recovery.unlocks[0])
        #expect(unlock.state == .succeeded)
        #expect(unlock.operation == "unlock" && unlock.trigger == .startup)

        // The interrupted run does not count as a run: the backup is due again now.
        #expect(try await restarted.plannedRuns().first?.date == fixture.clock.date)
        // The dead engine's job must not come back to life when the fake driver lets backups through.
        await crashed.stopNow()
        fixture.backend.release("local", "backup")
        let again = try #require(try await restarted.submitDueJobs().first)
        #expect(again.id != started.id)
        #expect(try await restarted.waitForCompletion(jobID: again.id).state == .succeeded)
    }

    @Test func queuedJobsSurviveARestart() async throws {
        let fixture = try EngineFixture(backups: EngineFixture.documentsAndPictures(picturesOn: "local", picturesPriority: .superior))
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let first = try fixture.makeEngine()
        let running = try await first.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let queued = try await first.backup("pictures")
        let shutdown = Task { await first.shutdown(grace: .seconds(5)) }
        await fixture.clock.waitForSleepers(1)
        fixture.clock.advance(by: .seconds(5))
        await shutdown.value
        #expect(try await first.job(id: running.id)?.state == .interrupted)

        fixture.backend.release("local", "backup")
        let second = try fixture.makeEngine()
        let recovery = try await second.recover()
        #expect(recovery.requeued == [queued.id])
        #expect(recovery.interrupted.isEmpty)
        let done = try await second.waitForCompletion(jobID: queued.id)
        #expect(done.state == .succeeded)
        #expect(done.priority == .superior)
        #expect(fixture.backend.finished.map(\.operation) == ["backup"])
    }

    @Test func aJobCancelledInTheStoreByAnotherProcessDoesNotStart() async throws {
        let fixture = try EngineFixture(backups: EngineFixture.documentsAndPictures(picturesOn: "local"))
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let daemon = try fixture.makeEngine()
        _ = try await daemon.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let queued = try await daemon.backup("pictures")
        _ = try await daemon.jobs(JobFilter())

        let cli = try fixture.makeEngine()
        #expect(try await cli.cancel(jobID: queued.id).state == .cancelled)
        fixture.backend.release("local", "backup")
        let record = try await daemon.waitForCompletion(jobID: queued.id)
        #expect(record.state == .cancelled)
        #expect(fixture.backend.calls("backup").count == 1)
    }
}
