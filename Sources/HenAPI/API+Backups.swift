import Foundation
import HenEngine

extension API {
    /// One backup in `GET /backups`.
    public struct BackupOverview: Encodable, Sendable {
        public var name: String
        public var paths: [String]
        public var repositories: [String]
        public var schedules: [String]
        public var watched: Bool
        public var priority: String
        /// The newest backup job, in any state (without its log).
        public var lastBackup: JobRecord?
        public var nextRun: PlannedRun?
        /// The newest restore drill, in any state (without its log).
        public var lastDrill: JobRecord?
        /// The backup's mass-deletion alarm, acknowledged or not; null when it never had one.
        public var alarm: BackupAlarm?

        public init(_ backup: Configuration.Backup, lastBackup: JobRecord?, nextRun: PlannedRun?, lastDrill: JobRecord?, alarm: BackupAlarm?) {
            name = backup.name
            paths = backup.paths
            repositories = backup.repositories
            schedules = backup.schedules.map(\.description)
            watched = backup.watch != nil
            priority = backup.priority.description
            self.lastBackup = lastBackup?.summary
            self.nextRun = nextRun
            self.lastDrill = lastDrill?.summary
            self.alarm = alarm
        }
    }

    /// `GET /backups/{name}`. Encodable only: its `definition` is the configuration's free-form rendering.
    public struct BackupDetail: Encodable, Sendable {
        public var name: String
        /// The backup as configured, defaults filled in, secrets as `***`.
        public var definition: JSONValue
        /// The newest job per operation (`backup`, `prune`, `drill`); an operation that never ran is left out.
        public var lastJobs: [String: JobRecord]
        /// One per repository of the backup, in its order.
        public var latestSnapshots: [LatestSnapshot]
        public var nextRuns: [PlannedRun]
        /// The backup's mass-deletion alarm, acknowledged or not; null when it never had one.
        public var alarm: BackupAlarm?

        public init(name: String, definition: JSONValue, lastJobs: [JobOperation.Kind: JobRecord], latestSnapshots: [LatestSnapshot], nextRuns: [PlannedRun], alarm: BackupAlarm?) {
            self.name = name
            self.definition = definition
            self.lastJobs = Dictionary(uniqueKeysWithValues: lastJobs.map { ($0.key.rawValue, $0.value.summary) })
            self.latestSnapshots = latestSnapshots
            self.nextRuns = nextRuns
            self.alarm = alarm
        }
    }

    /// A repository's newest snapshot of one backup; `error` says why there is none when the repository
    /// could not be read (null otherwise).
    public struct LatestSnapshot: Codable, Sendable {
        public var repository: String
        public var snapshot: Snapshot?
        public var error: String?

        public init(repository: String, snapshot: Snapshot?, error: String?) {
            self.repository = repository
            self.snapshot = snapshot
            self.error = error
        }
    }

    /// `{"alarm": {...}}`: what `POST /backups/{name}/alarm/ack` answers, the alarm it acknowledged.
    public struct AlarmAcknowledged: Codable, Sendable {
        public var alarm: BackupAlarm

        public init(alarm: BackupAlarm) {
            self.alarm = alarm
        }
    }
}
