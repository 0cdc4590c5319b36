import Foundation

/// Decides when each scheduled operation (backups, prunes, drills, checks) runs next: from its schedules, its last
/// run (the job store's) and when the engine started. In recovery mode nothing is scheduled.
///
/// A value built from the configuration in force; ``Engine/plannedRuns()`` and ``Engine/submitDueJobs()``
/// ask it, with the last runs read from the store.
struct Planner: Sendable {
    let configuration: Configuration
    /// When the engine was built: a cron schedule that never ran counts from here.
    let createdAt: Date

    /// Every operation with a schedule: backups, prunes of backups with a retention policy and drills, then checks
    /// of repositories by name.
    var scheduledOperations: [(operation: JobOperation, schedules: [Schedule])] {
        guard configuration.mode == .normal else { return [] }
        var items: [(operation: JobOperation, schedules: [Schedule])] = []
        for backup in configuration.backups {
            if !backup.schedules.isEmpty {
                items.append((.backup(backup: backup.name, repositories: nil), backup.schedules))
            }
            if !backup.prune.schedules.isEmpty, let retention = backup.retention, !retention.isEmpty {
                items.append((.prune(backup: backup.name), backup.prune.schedules))
            }
            if let drill = backup.drill, !drill.schedules.isEmpty {
                items.append((.drill(backup: backup.name), drill.schedules))
            }
        }
        for name in configuration.repositories.keys.sorted() {
            let repository = configuration.repositories[name]!
            if !repository.check.schedules.isEmpty {
                items.append((.check(repository: name, readDataSubset: nil), repository.check.schedules))
            }
        }
        return items
    }

    /// Every scheduled operation with its next run, soonest first.
    func plannedRuns(now date: Date, lastRun: (JobOperation) async throws -> Date?) async throws -> [PlannedRun] {
        var runs: [PlannedRun] = []
        for item in scheduledOperations {
            runs.append(plan(item.operation, schedules: item.schedules, lastRun: try await lastRun(item.operation), now: date))
        }
        return runs.sorted { $0.date != $1.date ? $0.date < $1.date : ($0.operation.rawValue, $0.target) < ($1.operation.rawValue, $1.target) }
    }

    /// The soonest of the schedules' next dates, and why.
    func plan(_ operation: JobOperation, schedules: [Schedule], lastRun: Date?, now date: Date) -> PlannedRun {
        let best = nextRun(schedules: schedules, lastRun: lastRun, now: date)
        let next = best?.date ?? .distantFuture
        let scheduleText = best.map { "\($0.schedule)" } ?? "no schedule"
        let last = lastRun.map { "last run \(Self.relative(date.timeIntervalSince($0))) ago" } ?? "never run"
        let when: String
        if next <= date {
            when = "now"
        } else if next == .distantFuture {
            when = "never"
        } else {
            when = "\(formatted(next)) (in \(Self.relative(next.timeIntervalSince(date))))"
        }
        return PlannedRun(operation: operation.kind, target: operation.target, date: next, reason: "\(last), \(scheduleText) → \(when)", schedule: scheduleText, lastRun: lastRun)
    }

    /// The soonest of the schedules' next dates and the schedule it comes from (nil without schedules):
    /// what ``Engine/submitDueJobs()`` needs, without the sentence `plan` formats.
    func nextRun(schedules: [Schedule], lastRun: Date?, now date: Date) -> (date: Date, schedule: Schedule)? {
        var best: (date: Date, schedule: Schedule)?
        for schedule in schedules {
            // A cron schedule that never ran fires at its first time after the engine started (counting from
            // `now` would push it past every time the scheduler wakes up for).
            var reference = lastRun
            if case .cron = schedule, reference == nil { reference = createdAt }
            let next = schedule.nextDate(lastRun: reference, now: date, timeZone: configuration.timeZone)
            if best == nil || next < best!.date { best = (next, schedule) }
        }
        return best
    }

    private func formatted(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = configuration.timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
        return formatter.string(from: date)
    }

    /// The shortest time between two runs of any of the schedules, measured from `date`.
    static func shortestInterval(_ schedules: [Schedule], from date: Date, timeZone: TimeZone) -> TimeInterval {
        schedules.map { schedule in
            let next = schedule.nextDate(lastRun: date, now: date, timeZone: timeZone)
            return max(1, next.timeIntervalSince(date))
        }.min() ?? .infinity
    }

    /// `45s`, `12m`, `2h`, `3d`: a span in its largest whole unit.
    static func relative(_ seconds: Double) -> String {
        let value = Int(max(0, seconds))
        switch value {
        case ..<60: return "\(value)s"
        case ..<3_600: return "\(value / 60)m"
        case ..<86_400: return "\(value / 3_600)h"
        default: return "\(value / 86_400)d"
        }
    }
}
