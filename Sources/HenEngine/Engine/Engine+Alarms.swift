import Foundation

/// The backups' mass-deletion alarms: read, and acknowledged by a person. The truth is in the job store
/// (``JobStore/alarm(backup:)``), shared with the CLI and surviving restarts.
extension Engine {
    /// The latest alarm of a backup (acknowledged or not), nil when it never had one.
    public func alarm(backup: String) async throws -> BackupAlarm? {
        guard configuration.backup(named: backup) != nil else { throw configuration.unknownBackup(backup) }
        return try await store.alarm(backup: backup)
    }

    /// Every configured backup's latest alarm.
    public func alarms() async throws -> [BackupAlarm] {
        let names = Set(configuration.backups.map(\.name))
        return try await store.alarms().filter { names.contains($0.backup) }
    }

    /// Acknowledges a backup's raised alarm: its prunes run again. Returns the acknowledged alarm; throws
    /// `.conflict` when none is raised.
    public func acknowledgeAlarm(backup: String) async throws -> BackupAlarm {
        guard configuration.backup(named: backup) != nil else { throw configuration.unknownBackup(backup) }
        guard let alarm = try await store.acknowledgeAlarm(backup: backup, at: now()) else {
            throw EngineError(.conflict, "Backup \(backup) has no raised mass-deletion alarm to acknowledge.")
        }
        monitor.metrics.alarm(backup: backup, raised: false)
        logger.notice("The mass-deletion alarm of backup \(backup) was acknowledged; its prunes run again.", metadata: ["backup": "\(backup)", "alarm_job_id": "\(alarm.jobID)"])
        return alarm
    }
}
