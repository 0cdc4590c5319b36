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

        public init(_ backup: Configuration.Backup, lastBackup: JobRecord?, nextRun: PlannedRun?) {
            name = backup.name
            paths = backup.paths
            repositories = backup.repositories
            schedules = backup.schedules.map(\.description)
            watched = backup.watch != nil
            priority = backup.priority.description
            self.lastBackup = lastBackup?.summary
            self.nextRun = nextRun
        }
    }

    /// `GET /backups/{name}`. Encodable only: its `definition` is the configuration's free-form rendering.
    public struct BackupDetail: Encodable, Sendable {
        public var name: String
        /// The backup as configured, defaults filled in, secrets as `***`.
        public var definition: JSONValue
        /// The newest job per operation (`backup`, `prune`); an operation that never ran is left out.
        public var lastJobs: [String: JobRecord]
        /// One per repository of the backup, in its order.
        public var latestSnapshots: [LatestSnapshot]
        public var nextRuns: [PlannedRun]

        public init(name: String, definition: JSONValue, lastJobs: [JobOperation.Kind: JobRecord], latestSnapshots: [LatestSnapshot], nextRuns: [PlannedRun]) {
            self.name = name
            self.definition = definition
            self.lastJobs = Dictionary(uniqueKeysWithValues: lastJobs.map { ($0.key.rawValue, $0.value.summary) })
            self.latestSnapshots = latestSnapshots
            self.nextRuns = nextRuns
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
}
