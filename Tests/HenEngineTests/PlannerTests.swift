import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// The planner alone: which operations are scheduled, and when each runs next from its last run.
@Suite struct PlannerTests {
    private let start = Date(timeIntervalSince1970: 1_750_000_000)

    private func configuration(mode: Configuration.Mode = .normal) throws -> Configuration {
        var repository = Configuration.Repository(name: "local", driver: "fake", location: "/tmp/never-used")
        repository.check.schedules = [try Schedule.parse("1w")]
        return .fixture(
            root: "/tmp/hen-planner-tests", mode: mode,
            repositories: ["local": repository, "usb": Configuration.Repository(name: "usb", driver: "fake", location: "/tmp/never-used-2")],
            backups: [
                Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"], schedules: [try Schedule.parse("1h"), try Schedule.parse("0 30 2 * * *")],
                                     retention: RetentionPolicy(keepLast: 3), prune: .init(schedules: [try Schedule.parse("1d")])),
                // A prune schedule without a retention policy plans nothing.
                Configuration.Backup(name: "pictures", paths: ["/pics"], repositories: ["usb"], prune: .init(schedules: [try Schedule.parse("1d")])),
                Configuration.Backup(name: "unscheduled", paths: ["/other"], repositories: ["usb"]),
            ]
        )
    }

    @Test func backupsPrunesAndChecksWithSchedulesArePlanned() throws {
        let planner = Planner(configuration: try configuration(), createdAt: start)
        #expect(planner.scheduledOperations.map(\.operation) == [
            .backup(backup: "documents", repositories: nil), .prune(backup: "documents"), .check(repository: "local", readDataSubset: nil),
        ])
        #expect(Planner(configuration: try configuration(mode: .recovery), createdAt: start).scheduledOperations.isEmpty)
    }

    @Test func theSoonestScheduleDecidesAndSaysWhy() throws {
        let planner = Planner(configuration: try configuration(), createdAt: start)
        let operation = JobOperation.backup(backup: "documents", repositories: nil)
        let schedules = planner.scheduledOperations[0].schedules
        // Never run: an interval schedule runs now.
        let first = planner.plan(operation, schedules: schedules, lastRun: nil, now: start)
        #expect(first.date == start)
        #expect(first.reason == "never run, every 1h → now")
        // Ran 20 minutes ago: in 40 minutes, unless 2:30 comes first.
        let now = start.addingTimeInterval(3_600)
        let later = planner.plan(operation, schedules: schedules, lastRun: now.addingTimeInterval(-1_200), now: now)
        let cron = try Schedule.parse("0 30 2 * * *").nextDate(lastRun: now.addingTimeInterval(-1_200), now: now, timeZone: TimeZone(identifier: "UTC")!)
        #expect(later.date == min(now.addingTimeInterval(2_400), cron))
        #expect(later.lastRun == now.addingTimeInterval(-1_200))
        #expect(later.reason.hasPrefix("last run 20m ago, "))
    }

    @Test func aCronScheduleThatNeverRanCountsFromTheEngineStart() throws {
        let planner = Planner(configuration: try configuration(), createdAt: start)
        let cron = try Schedule.parse("0 30 2 * * *")
        let expected = cron.nextDate(lastRun: start, now: start, timeZone: TimeZone(identifier: "UTC")!)
        // Long after that first time, a cron schedule that never ran is due now, once.
        let run = planner.plan(.backup(backup: "documents", repositories: nil), schedules: [cron], lastRun: nil, now: expected.addingTimeInterval(60))
        #expect(run.date == expected.addingTimeInterval(60))
        #expect(run.reason.hasSuffix("→ now"))
    }

    @Test func plannedRunsAreSoonestFirstFromTheLastRuns() async throws {
        let planner = Planner(configuration: try configuration(), createdAt: start)
        let runs = try await planner.plannedRuns(now: start) { operation in
            switch operation {
            case .backup: start.addingTimeInterval(-600)            // due in 50m
            case .prune: start.addingTimeInterval(-86_400 + 60)     // due in 1m
            default: nil                                            // the check: due now
            }
        }
        #expect(runs.map(\.operation) == [.check, .prune, .backup])
        #expect(runs.map(\.date) == [start, start.addingTimeInterval(60), start.addingTimeInterval(3_000)])
    }
}
