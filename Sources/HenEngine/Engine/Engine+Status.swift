import Foundation
import HenDrivers

extension Engine {
    /// The queue, the running jobs with their progress and how long since their driver last reported,
    /// and the next scheduled runs with the reason for each. Includes the queued and running jobs of
    /// another process sharing the job store (after this engine's own, in store order).
    public func status() async -> EngineStatus {
        let date = now()
        var queued = await queue.queuedEntries.compactMap { active[$0.id] }
        var runningRecords = running.keys.compactMap { active[$0] }
        // Jobs of another process sharing the store (the daemon, seen from an in-process CLI).
        await writer.flush()
        if let stored = try? await store.records(states: [.queued, .running]) {
            for record in stored where active[record.id] == nil {
                if record.state == .queued { queued.append(record) } else { runningRecords.append(record) }
            }
        }
        let runningJobs = runningRecords
            .sorted { ($0.startedAt ?? $0.queuedAt) < ($1.startedAt ?? $1.queuedAt) }
            .map { record in
                EngineStatus.RunningJob(record: record, secondsSinceLastReport: date.timeIntervalSince(record.lastReportAt ?? record.startedAt ?? date))
            }
        let nextRuns: [PlannedRun]
        do {
            nextRuns = try await plannedRuns()
        } catch {
            logger.error("The next runs cannot be planned: \(error)")
            nextRuns = []
        }
        let watchers = await watchService?.status() ?? []
        return EngineStatus(now: date, queued: queued, running: runningJobs, nextRuns: nextRuns, maxConcurrentJobs: configuration.maxConcurrentJobs, watchers: watchers)
    }

    /// Every scheduled operation (backups, prunes, checks) with its next run, soonest first. Last runs come
    /// from the job store. In recovery mode nothing is scheduled.
    public func plannedRuns() async throws -> [PlannedRun] {
        await writer.flush()
        let date = now()
        var runs: [PlannedRun] = []
        for item in scheduledOperations {
            let lastRun = try await store.lastRun(operation: item.operation.kind, target: item.operation.target)
            runs.append(plan(item.operation, schedules: item.schedules, lastRun: lastRun, now: date))
        }
        return runs.sorted { $0.date != $1.date ? $0.date < $1.date : ($0.operation.rawValue, $0.target) < ($1.operation.rawValue, $1.target) }
    }

    /// Submits the scheduled operations that are due, in turn (see ``inTurn(_:)``: by priority, one per
    /// repository, never more waiting than `max_concurrent_jobs`); returns the jobs submitted. What is due
    /// but not submitted yet is submitted by a later call (the scheduler looks every second then).
    @discardableResult
    public func submitDueJobs() async throws -> [JobRecord] {
        let date = now()
        var submitted: [JobRecord] = []
        var due: [(operation: JobOperation, run: PlannedRun)] = []
        for item in scheduledOperations {
            // A job of this operation already queued or running here is the run: nothing more to do.
            if active.values.contains(where: { $0.request == item.operation }) { continue }
            let lastRun = try await store.lastRun(operation: item.operation.kind, target: item.operation.target)
            let run = plan(item.operation, schedules: item.schedules, lastRun: lastRun, now: date)
            guard run.date <= date else { continue }
            due.append((item.operation, run))
        }
        for (operation, run) in inTurn(due) {
            // Looked at again for each: the submissions before it took repositories and queue places.
            guard mayQueueScheduled(operation) else { continue }
            do {
                submitted.append(try await submit(JobRequest(operation: operation, trigger: .schedule(run.schedule))))
            } catch let error as EngineError where error.code == .shuttingDown {
                break
            } catch {
                logger.error("The scheduled \(operation.name) of \(operation.target) cannot be queued: \(error)")
            }
        }
        return submitted
    }

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
        }
        for name in configuration.repositories.keys.sorted() {
            let repository = configuration.repositories[name]!
            if !repository.check.schedules.isEmpty {
                items.append((.check(repository: name, readDataSubset: nil), repository.check.schedules))
            }
        }
        return items
    }

    /// The soonest of the schedules' next dates, and why. A cron schedule that never ran counts from when
    /// its backup or repository appeared (the engine's start, or the reload that added it).
    func plan(_ operation: JobOperation, schedules: [Schedule], lastRun: Date?, now date: Date) -> PlannedRun {
        var best: (date: Date, schedule: Schedule)?
        for schedule in schedules {
            // A cron schedule that never ran fires at its first time after the engine started (counting from
            // `now` would push it past every time the scheduler wakes up for).
            var reference = lastRun
            if case .cron = schedule, reference == nil { reference = appearance(of: operation) }
            let next = schedule.nextDate(lastRun: reference, now: date, timeZone: configuration.timeZone)
            if best == nil || next < best!.date { best = (next, schedule) }
        }
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

    private func formatted(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = configuration.timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
        return formatter.string(from: date)
    }

    /// `45s`, `12m`, `2h`, `3d`: a span in its largest whole unit.
    public static func relative(_ seconds: Double) -> String {
        let value = Int(max(0, seconds))
        switch value {
        case ..<60: return "\(value)s"
        case ..<3_600: return "\(value / 60)m"
        case ..<86_400: return "\(value / 3_600)h"
        default: return "\(value / 86_400)d"
        }
    }
}
