import Foundation
import GRDB

/// The backups' mass-deletion alarms (``BackupAlarm``): one row per backup, the latest.
extension JobStore {
    /// Records a new alarm, replacing the backup's previous one (acknowledged or not).
    public func raise(_ alarm: BackupAlarm) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO backup_alarm
                    (backup, repository, job_id, snapshot_id, parent_id, removed, parent_files, threshold, message, raised_at, acknowledged_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                arguments: [
                    alarm.backup, alarm.repository, alarm.jobID, alarm.snapshotID, alarm.parentSnapshotID, alarm.removed, alarm.parentFiles,
                    alarm.threshold, alarm.message, alarm.raisedAt.timeIntervalSince1970,
                ]
            )
        }
    }

    /// The latest alarm of a backup, acknowledged or not.
    public func alarm(backup: String) async throws -> BackupAlarm? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM backup_alarm WHERE backup = ?", arguments: [backup]).map(Self.alarm(from:))
        }
    }

    /// Every backup's latest alarm, by backup name.
    public func alarms() async throws -> [BackupAlarm] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM backup_alarm ORDER BY backup").map(Self.alarm(from:))
        }
    }

    /// Marks a backup's alarm acknowledged; returns it, or nil when there is none that is raised.
    public func acknowledgeAlarm(backup: String, at date: Date) async throws -> BackupAlarm? {
        try await write { db in
            try db.execute(
                sql: "UPDATE backup_alarm SET acknowledged_at = ? WHERE backup = ? AND acknowledged_at IS NULL",
                arguments: [date.timeIntervalSince1970, backup]
            )
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM backup_alarm WHERE backup = ?", arguments: [backup]).map(Self.alarm(from:))
        }
    }

    private static func alarm(from row: Row) -> BackupAlarm {
        let acknowledged: Double? = row["acknowledged_at"]
        return BackupAlarm(
            backup: row["backup"], repository: row["repository"], jobID: row["job_id"], snapshotID: row["snapshot_id"],
            parentSnapshotID: row["parent_id"], removed: row["removed"], parentFiles: row["parent_files"], threshold: row["threshold"],
            message: row["message"], raisedAt: Date(timeIntervalSince1970: row["raised_at"]),
            acknowledgedAt: acknowledged.map { Date(timeIntervalSince1970: $0) }
        )
    }
}
