import Foundation
import HenDrivers
import Testing

struct RetentionPlannerTests {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// A snapshot at `yyyy-MM-dd HH:mm` UTC, named by that time.
    static func snapshot(_ time: String, host: String = "h", paths: [String] = ["/data"], tags: [String] = []) -> Snapshot {
        let parts = time.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
        let date = utc.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4]))!
        return Snapshot(id: time, time: date, host: host, tags: tags, paths: paths)
    }

    func plan(_ policy: RetentionPolicy, _ times: [String]) -> (keep: [String], remove: [String]) {
        let result = RetentionPlanner(policy: policy, calendar: Self.utc).plan(times.map { Self.snapshot($0) })
        return (result.keep.map(\.id), result.remove.map(\.id).sorted())
    }

    let week = [
        "2024-01-01 10:00", "2024-01-01 12:00", "2024-01-01 14:00",
        "2024-01-03 09:00", "2024-01-03 14:00",
        "2024-01-08 08:00", "2024-02-01 08:00", "2025-01-01 08:00",
    ]

    @Test func keepLastKeepsTheNewest() {
        let result = plan(RetentionPolicy(keepLast: 2), week)
        #expect(result.keep == ["2025-01-01 08:00", "2024-02-01 08:00"])
        #expect(result.remove.count == 6)
    }

    @Test func keepDailyKeepsTheNewestOfEachDay() {
        // restic 0.14 (checked with the real binary): same-day older snapshots go, no "keep oldest" rule.
        let result = plan(RetentionPolicy(keepDaily: 10), ["2024-01-01 10:00", "2024-01-01 12:00", "2024-01-01 14:00", "2024-01-03 14:00"])
        #expect(result.keep == ["2024-01-03 14:00", "2024-01-01 14:00"])
        #expect(result.remove == ["2024-01-01 10:00", "2024-01-01 12:00"])
    }

    @Test func keepHourly() {
        let result = plan(RetentionPolicy(keepHourly: 3), ["2024-01-01 10:05", "2024-01-01 10:50", "2024-01-01 11:10", "2024-01-01 12:00", "2024-01-01 13:00"])
        #expect(result.keep == ["2024-01-01 13:00", "2024-01-01 12:00", "2024-01-01 11:10"])
    }

    @Test func keepWeeklyUsesIsoWeeks() {
        // 2024-01-07 is a Sunday (ISO week 1), 2024-01-08 a Monday (week 2); 2023-01-01 is in 2022-W52.
        let result = plan(RetentionPolicy(keepWeekly: 3), ["2023-01-01 12:00", "2023-12-31 12:00", "2024-01-02 12:00", "2024-01-07 12:00", "2024-01-08 12:00"])
        #expect(result.keep == ["2024-01-08 12:00", "2024-01-07 12:00", "2023-12-31 12:00"])
    }

    @Test func keepMonthlyAndYearly() {
        let monthly = plan(RetentionPolicy(keepMonthly: 2), week)
        #expect(monthly.keep == ["2025-01-01 08:00", "2024-02-01 08:00"])
        let yearly = plan(RetentionPolicy(keepYearly: 5), week)
        #expect(yearly.keep == ["2025-01-01 08:00", "2024-02-01 08:00"])
    }

    @Test func rulesCombineAndAnyRuleKeeps() {
        let result = plan(RetentionPolicy(keepLast: 1, keepDaily: 2, keepMonthly: 3), week)
        // last: 2025-01-01; daily: 2025-01-01, 2024-02-01; monthly: 2025-01, 2024-02, 2024-01 (newest of Jan: 01-08)
        #expect(result.keep == ["2025-01-01 08:00", "2024-02-01 08:00", "2024-01-08 08:00"])
    }

    @Test func keepWithinCountsBackFromTheNewestSnapshot() {
        // Years-old snapshots: a cutoff counted from now would remove everything.
        let result = plan(RetentionPolicy(keepWithin: KeepWithin(days: 2)), ["2024-01-01 10:00", "2024-01-03 09:00", "2024-01-03 10:00", "2024-01-05 10:00"])
        // The cutoff is exactly 01-03 10:00, and restic keeps only snapshots strictly newer than it.
        #expect(result.keep == ["2024-01-05 10:00"])
        let hours = plan(RetentionPolicy(keepWithin: KeepWithin(days: 1, hours: 12)), ["2024-01-01 10:00", "2024-01-03 09:00", "2024-01-03 23:00"])
        #expect(hours.keep == ["2024-01-03 23:00", "2024-01-03 09:00"])
    }

    @Test func keepTagsNeedEveryTagOfAnEntry() {
        let snapshots = [
            Self.snapshot("2024-01-01 10:00", tags: ["important"]),
            Self.snapshot("2024-01-02 10:00", tags: ["a"]),
            Self.snapshot("2024-01-03 10:00", tags: ["a", "b"]),
            Self.snapshot("2024-01-04 10:00", tags: []),
        ]
        let result = RetentionPlanner(policy: RetentionPolicy(keepTags: ["important", "a,b"]), calendar: Self.utc).plan(snapshots)
        #expect(result.keep.map(\.id) == ["2024-01-03 10:00", "2024-01-01 10:00"])
        #expect(result.reasons["2024-01-01 10:00"] == ["has tags important"])
    }

    @Test func groupsByHostAndPaths() {
        let snapshots = [
            Self.snapshot("2024-01-01 10:00", host: "a", paths: ["/x"]),
            Self.snapshot("2024-01-02 10:00", host: "a", paths: ["/x"]),
            Self.snapshot("2024-01-03 10:00", host: "b", paths: ["/x"]),
            Self.snapshot("2024-01-04 10:00", host: "a", paths: ["/y", "/x"]),
            Self.snapshot("2024-01-05 10:00", host: "a", paths: ["/x", "/y"]),
        ]
        let result = RetentionPlanner(policy: RetentionPolicy(keepLast: 1), calendar: Self.utc).plan(snapshots)
        #expect(Set(result.keep.map(\.id)) == ["2024-01-02 10:00", "2024-01-03 10:00", "2024-01-05 10:00"])
        #expect(Set(result.remove.map(\.id)) == ["2024-01-01 10:00", "2024-01-04 10:00"])
    }

    @Test func emptyPolicyKeepsEverything() {
        let result = plan(RetentionPolicy(), week)
        #expect(result.keep.count == week.count)
        #expect(result.remove.isEmpty)
    }

    @Test func zeroCountsAreUnsetAsInRestic() {
        #expect(RetentionPlanner.isEmpty(RetentionPolicy(keepLast: 0, keepWithin: KeepWithin(), keepTags: [""])))
        #expect(!RetentionPlanner.isEmpty(RetentionPolicy(keepLast: 0, keepDaily: 1)))
        #expect(!RetentionPlanner.isEmpty(RetentionPolicy(keepTags: ["a"])))
        // Nothing set: everything is kept, never everything removed.
        #expect(plan(RetentionPolicy(keepLast: 0), week).remove.isEmpty)
        let result = plan(RetentionPolicy(keepLast: 0, keepDaily: 1), week)
        #expect(result.keep == ["2025-01-01 08:00"])
    }

    @Test func reasonsNameTheRules() {
        let result = RetentionPlanner(policy: RetentionPolicy(keepLast: 1, keepDaily: 1), calendar: Self.utc).plan(week.map { Self.snapshot($0) })
        #expect(result.reasons["2025-01-01 08:00"] == ["last snapshot", "daily snapshot"])
    }
}
