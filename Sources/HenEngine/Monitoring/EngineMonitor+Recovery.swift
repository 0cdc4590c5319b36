import Foundation

/// The metrics and health of restore drills and mass-deletion alarms (docs/recovery-confidence.md).
extension EngineMonitor {
    /// A drill's file counts and last time and result; a backup's removed files and raised alarm.
    func recoveryMetrics(ofEnded record: JobRecord) {
        switch record.request {
        case .drill(let backup) where record.state == .succeeded || record.state == .warning || record.state == .failed:
            let drills = record.results.compactMap(\.drill)
            metrics.drilled(backup: backup, matched: drills.reduce(0) { $0 + $1.matched }, differed: drills.reduce(0) { $0 + $1.differed }, skipped: drills.reduce(0) { $0 + $1.skipped })
            metrics.lastDrill(backup: backup, at: record.endedAt ?? now(), ok: record.state != .failed)
        case .backup(let backup, _):
            for result in record.results {
                if let removed = result.filesRemoved { metrics.filesRemoved(backup: backup, count: removed) }
                if result.alarm == true { metrics.alarm(backup: backup, raised: true, counted: true) }
            }
        default:
            break
        }
    }

    /// The alarm gauges and the last drill of each backup, from the job store (right after a restart).
    func publishStoredRecoveryMetrics() async throws {
        let configuration = self.configuration.current
        let names = Set(configuration.backups.map(\.name))
        for alarm in try await store.alarms() where names.contains(alarm.backup) {
            metrics.alarm(backup: alarm.backup, raised: alarm.isActive)
        }
        for backup in configuration.backups {
            if let drill = try await store.records(JobFilter(states: [.succeeded, .warning, .failed], backup: backup.name, operation: .drill, limit: 1)).first {
                metrics.lastDrill(backup: backup.name, at: drill.endedAt ?? drill.queuedAt, ok: drill.state != .failed)
            }
        }
    }

    /// Strict health: a raised alarm (`backup_alarm`), a failed last drill (`drill_failed`), a drill schedule
    /// without a drill within twice its interval (`drill_overdue`).
    func recoveryProblems(at date: Date, into health: inout EngineHealth) async throws {
        let configuration = self.configuration.current
        for alarm in try await store.alarms() where alarm.isActive {
            guard let backup = configuration.backup(named: alarm.backup) else { continue }
            let next = backup.alarm?.protect == true ? " Its prunes are held back until someone runs" : " Acknowledge it with"
            health.problems.append(.init(kind: "backup_alarm", subject: alarm.backup, message: alarm.message + next + " `hen-backup alarm ack \(alarm.backup)`."))
        }
        for backup in configuration.backups {
            let last = try await store.records(JobFilter(states: [.succeeded, .warning, .failed], backup: backup.name, operation: .drill, limit: 1)).first
            if let last, last.state == .failed {
                health.problems.append(.init(kind: "drill_failed", subject: backup.name, message: "The last restore drill of backup \(backup.name) (job \(last.id)) failed: \(last.error ?? "no message")"))
            }
            guard configuration.mode == .normal, let schedules = backup.drill?.schedules, !schedules.isEmpty else { continue }
            // Kept apart from the job history, which `job_history` trims.
            let lastDrill = try await store.lastSuccess(operation: .drill, target: backup.name)
            let appeared = self.configuration.appearance(ofBackup: backup.name)
            let since = lastDrill ?? appeared
            let interval = Planner.shortestInterval(schedules, from: since, timeZone: configuration.timeZone)
            if date.timeIntervalSince(since) > 2 * interval {
                let origin = appeared == createdAt ? "since the daemon started" : "since it was added to the configuration"
                let when = lastDrill.map { "last drilled \(Planner.relative(date.timeIntervalSince($0))) ago" } ?? "has not been drilled \(origin) \(Planner.relative(date.timeIntervalSince(appeared))) ago"
                health.problems.append(.init(kind: "drill_overdue", subject: backup.name, message: "Backup \(backup.name) \(when), more than twice its drill schedule interval of \(Planner.relative(interval))."))
            }
        }
    }
}
