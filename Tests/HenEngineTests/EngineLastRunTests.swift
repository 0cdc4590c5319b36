import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// Last runs and last successes are kept apart from the job history, so trimming it does not reset the
/// schedules nor make a backup look overdue; a backup added by a reload counts from when it appeared.
@Suite struct EngineLastRunTests {
    @Test func trimmingTheHistoryDoesNotResetSchedulesNorHealth() async throws {
        let backups = [
            Configuration.Backup(
                name: "documents", paths: ["/data"], repositories: ["local"], schedules: [try Schedule.parse("1h")],
                retention: RetentionPolicy(keepLast: 3), prune: .init(schedules: [try Schedule.parse("1d")])
            ),
        ]
        let fixture = try EngineFixture(backups: backups) { $0.jobHistory = .init(keep: .seconds(90 * 86_400), maxJobs: 2) }
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        let engine = try fixture.makeEngine()
        // Built now, used after a "restart" below: a backup that never succeeded counts from here.
        let restarted = try fixture.makeEngine()
        // The backup and the prune share a repository: queued in turn (EngineCatchUpTests).
        for _ in 0..<2 {
            for job in try await engine.submitDueJobs() { _ = try await engine.waitForCompletion(jobID: job.id) }
        }
        let pruned = try #require(try await engine.jobs(JobFilter(operation: .prune)).first)
        #expect(pruned.state == .succeeded)

        // An hour later: three more backups push the prune and the first backup out of a history of 2.
        for _ in 0..<3 {
            fixture.clock.advance(by: .seconds(3_600))
            for job in try await engine.submitDueJobs() { _ = try await engine.waitForCompletion(jobID: job.id) }
        }
        #expect(try await engine.enforceHistoryRetention() == 3)
        #expect(try await engine.jobs(JobFilter(operation: .prune)).isEmpty)

        // A restart: the prune is still 21 h away, not due at once.
        _ = try await restarted.recover()
        let prune = try #require(try await restarted.plannedRuns().first { $0.operation == .prune })
        #expect(prune.date == pruned.startedAt?.addingTimeInterval(86_400))
        #expect(prune.reason.hasPrefix("last run 3h ago, every 1d → "))
        #expect(try await restarted.submitDueJobs().isEmpty)

        // Health reads the last success from there too: with only failed backups in the history it is not overdue.
        // (The engine was built 3.5 h ago; the last success is 30 min old.)
        fixture.backend.fail("local", "backup", DriverError(.failed, "boom", repository: "local"))
        fixture.clock.advance(by: .seconds(1_800))
        for _ in 0..<2 {
            let failing = try await restarted.backup("documents")
            #expect(try await restarted.waitForCompletion(jobID: failing.id).state == .failed)
        }
        _ = try await restarted.enforceHistoryRetention()
        #expect(try await restarted.jobs(JobFilter(states: [.succeeded], operation: .backup)).isEmpty)
        let health = await restarted.health(strict: true)
        #expect(!health.problems.contains { $0.kind == "backup_overdue" }, "\(health.problems)")
    }

    @Test func aBackupAddedByAReloadCountsFromWhenItAppeared() async throws {
        let cron = try Schedule.parse("0 0 3 * * *")
        let fixture = try EngineFixture(backups: [Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"])])
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.setInitialized("usb")
        let engine = try fixture.makeEngine()
        // Two days later a daily backup is added.
        fixture.clock.advance(by: .seconds(2 * 86_400))
        let added = fixture.clock.date
        var configuration = fixture.configuration
        configuration.backups.append(Configuration.Backup(name: "pictures", paths: ["/pics"], repositories: ["usb"], schedules: [cron]))
        _ = try await engine.reload(configuration)

        // Neither overdue (it has not had a day yet) nor due: its first time is the next 03:00 after it appeared.
        #expect(await engine.health(strict: true).problems.isEmpty)
        let plan = try #require(try await engine.plannedRuns().first { $0.target == "pictures" })
        #expect(plan.date == cron.nextDate(lastRun: added, now: added, timeZone: fixture.configuration.timeZone))
        #expect(plan.date > added)
        #expect(try await engine.submitDueJobs().isEmpty)

        // Three days after it appeared without a success, it is overdue, counted from then.
        fixture.clock.advance(by: .seconds(3 * 86_400))
        let overdue = await engine.health(strict: true).problems.filter { $0.kind == "backup_overdue" }
        #expect(overdue.count == 1)
        #expect(overdue.first?.message.hasPrefix("Backup pictures has not succeeded since it was added to the configuration 3d ago, more than twice its schedule interval") == true)
    }
}
