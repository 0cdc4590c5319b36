import Foundation

/// A backup's mass-deletion alarm: a new snapshot removed more files against its parent than the backup's
/// `alarm.removed_over` allows. It stays raised (and holds the backup's prunes back when `protect` is set)
/// until someone acknowledges it; kept in the job store, so a restart changes nothing.
public struct BackupAlarm: Sendable, Hashable, Codable {
    public var backup: String
    public var repository: String
    /// The backup job that raised it.
    public var jobID: String
    public var snapshotID: String
    public var parentSnapshotID: String
    /// Files (and other entries that are not directories) the snapshot no longer has.
    public var removed: Int
    /// Files in the parent snapshot.
    public var parentFiles: Int
    /// The configured `removed_over` when it was raised (`30%`, `500`).
    public var threshold: String
    /// The one sentence the job ended with.
    public var message: String
    public var raisedAt: Date
    public var acknowledgedAt: Date?

    public init(backup: String, repository: String, jobID: String, snapshotID: String, parentSnapshotID: String, removed: Int, parentFiles: Int, threshold: String, message: String, raisedAt: Date, acknowledgedAt: Date? = nil) {
        self.backup = backup
        self.repository = repository
        self.jobID = jobID
        self.snapshotID = snapshotID
        self.parentSnapshotID = parentSnapshotID
        self.removed = removed
        self.parentFiles = parentFiles
        self.threshold = threshold
        self.message = message
        self.raisedAt = raisedAt
        self.acknowledgedAt = acknowledgedAt
    }

    /// Raised and not acknowledged yet.
    public var isActive: Bool { acknowledgedAt == nil }

    /// Whether `removed` of `parentFiles` goes over `threshold`, and the sentence that says so.
    static func evaluate(backup: String, repository: String, snapshotID: String, parentSnapshotID: String, removed: Int, parentFiles: Int, threshold: Configuration.Backup.Alarm.Threshold) -> String? {
        let share = parentFiles > 0 ? Double(removed) / Double(parentFiles) * 100 : 0
        let over: Bool = switch threshold {
        case .percent(let limit): share > limit
        case .count(let limit): removed > limit
        }
        guard over, removed > 0 else { return nil }
        let percent = share >= 10 ? String(Int(share.rounded())) : String(format: "%.1f", share)
        return "Mass-deletion alarm for backup \(backup): snapshot \(snapshotID.prefix(8)) in \(repository) has \(removed) of the parent \(parentSnapshotID.prefix(8))'s \(parentFiles) files removed (\(percent)%), more than removed_over: \(threshold)."
    }
}
