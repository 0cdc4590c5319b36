import Foundation

/// Decides which snapshots a ``RetentionPolicy`` keeps, exactly as restic 0.14's `forget` does
/// (`internal/restic/snapshot_policy.go`), for drivers that have no `forget` of their own.
///
/// - Snapshots are grouped by host and paths (restic's default `--group-by host,paths`); each group is
///   judged on its own.
/// - Within a group, snapshots are walked newest first. `keep_last` keeps the first n; the hourly, daily,
///   weekly (ISO week), monthly and yearly rules each keep the newest snapshot of each of their first n
///   distinct periods. Periods are read in `calendar`'s time zone.
/// - `keep_within` keeps every snapshot strictly newer than ``KeepWithin/cutoff(from:calendar:)`` counted
///   back from the group's newest snapshot (not from now).
/// - `keep_tags` keeps every snapshot carrying one of the entries; an entry `a,b` needs both tags, as
///   restic's `--keep-tag a,b` does.
/// - A snapshot kept by any rule is kept. Counts of zero or less and an all-zero `keep_within` are unset,
///   as in restic; a policy with nothing set keeps everything (callers should refuse it, see
///   ``isEmpty(_:)``).
public struct RetentionPlanner: Sendable {
    public struct Plan: Sendable, Hashable {
        /// Kept snapshots, newest first within each group.
        public var keep: [Snapshot]
        public var remove: [Snapshot]
        /// Why each kept snapshot was kept, by id ("last snapshot", "daily snapshot", "within 2d", …).
        public var reasons: [String: [String]]
    }

    public let policy: RetentionPolicy
    public let calendar: Calendar

    public init(policy: RetentionPolicy, calendar: Calendar = .current) {
        self.policy = policy
        self.calendar = calendar
    }

    /// Whether `policy` sets no rule at all once zero counts and spans are treated as unset. Forgetting
    /// with such a policy must be refused: it reads as "keep nothing" but restic keeps everything.
    public static func isEmpty(_ policy: RetentionPolicy) -> Bool {
        let counts = [policy.keepLast, policy.keepHourly, policy.keepDaily, policy.keepWeekly, policy.keepMonthly, policy.keepYearly]
        return counts.allSatisfy { ($0 ?? 0) <= 0 } && effectiveWithin(policy) == nil
            && policy.keepTags.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    private static func effectiveWithin(_ policy: RetentionPolicy) -> KeepWithin? {
        guard let within = policy.keepWithin, within != KeepWithin() else { return nil }
        return within
    }

    public func plan(_ snapshots: [Snapshot]) -> Plan {
        var groups: [GroupKey: [Snapshot]] = [:]
        var order: [GroupKey] = []
        for snapshot in snapshots {
            let key = GroupKey(host: snapshot.host, paths: snapshot.paths.sorted())
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(snapshot)
        }
        var plan = Plan(keep: [], remove: [], reasons: [:])
        for key in order {
            planGroup(groups[key] ?? [], into: &plan)
        }
        return plan
    }

    private struct GroupKey: Hashable {
        let host: String
        let paths: [String]
    }

    private struct Bucket {
        var count: Int
        let reason: String
        let period: (Date, Int) -> Int
        var last: Int?
    }

    private func planGroup(_ group: [Snapshot], into plan: inout Plan) {
        // Newest first; a stable sort keeps the input order of equal times, as Go's sort.Stable does.
        let list = group.enumerated()
            .sorted { $0.element.time != $1.element.time ? $0.element.time > $1.element.time : $0.offset < $1.offset }
            .map(\.element)
        guard !list.isEmpty else { return }
        if Self.isEmpty(policy) {
            for snapshot in list {
                plan.keep.append(snapshot)
                plan.reasons[snapshot.id] = ["policy is empty"]
            }
            return
        }

        let local = calendar
        var isoWeeks = Calendar(identifier: .iso8601)
        isoWeeks.timeZone = calendar.timeZone
        let iso = isoWeeks
        func fields(_ date: Date) -> DateComponents {
            local.dateComponents([.year, .month, .day, .hour], from: date)
        }
        var buckets: [Bucket] = [
            Bucket(count: policy.keepLast ?? 0, reason: "last snapshot", period: { _, number in number }),
            Bucket(count: policy.keepHourly ?? 0, reason: "hourly snapshot", period: { date, _ in
                let c = fields(date)
                return (c.year ?? 0) * 1_000_000 + (c.month ?? 0) * 10_000 + (c.day ?? 0) * 100 + (c.hour ?? 0)
            }),
            Bucket(count: policy.keepDaily ?? 0, reason: "daily snapshot", period: { date, _ in
                let c = fields(date)
                return (c.year ?? 0) * 10_000 + (c.month ?? 0) * 100 + (c.day ?? 0)
            }),
            Bucket(count: policy.keepWeekly ?? 0, reason: "weekly snapshot", period: { date, _ in
                let c = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
                return (c.yearForWeekOfYear ?? 0) * 100 + (c.weekOfYear ?? 0)
            }),
            Bucket(count: policy.keepMonthly ?? 0, reason: "monthly snapshot", period: { date, _ in
                let c = fields(date)
                return (c.year ?? 0) * 100 + (c.month ?? 0)
            }),
            Bucket(count: policy.keepYearly ?? 0, reason: "yearly snapshot", period: { date, _ in
                fields(date).year ?? 0
            }),
        ]

        let newest = list.map(\.time).max() ?? Date()
        let within = Self.effectiveWithin(policy)
        let cutoff = within.map { $0.cutoff(from: newest, calendar: calendar) }
        let tagSets = policy.keepTags.map { entry in
            entry.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }.filter { !$0.isEmpty }

        for (number, snapshot) in list.enumerated() {
            var reasons: [String] = []
            for tags in tagSets where tags.allSatisfy(snapshot.tags.contains) {
                reasons.append("has tags \(tags.joined(separator: ","))")
            }
            if let cutoff, let within, snapshot.time > cutoff {
                reasons.append("within \(within.resticNotation)")
            }
            for index in buckets.indices where buckets[index].count > 0 {
                let value = buckets[index].period(snapshot.time, number)
                if value != buckets[index].last {
                    buckets[index].last = value
                    buckets[index].count -= 1
                    reasons.append(buckets[index].reason)
                }
            }
            if reasons.isEmpty {
                plan.remove.append(snapshot)
            } else {
                plan.keep.append(snapshot)
                plan.reasons[snapshot.id] = reasons
            }
        }
    }
}
