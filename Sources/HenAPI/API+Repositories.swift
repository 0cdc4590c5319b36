import Foundation
import HenEngine

extension API {
    /// One repository in `GET /repositories`.
    public struct RepositoryOverview: Codable, Sendable {
        public var name: String
        public var driver: String
        /// Credentials in the location are hidden.
        public var location: String
        /// The backup it is defined in, for an inline repository; null for a global one.
        public var backup: String?
        /// The backups that write to it.
        public var backups: [String]

        public init(_ repository: Configuration.Repository, configuration: Configuration) {
            name = repository.name
            driver = repository.driver
            location = LocationRedaction.redact(repository.location)
            backup = repository.definedInBackup
            backups = configuration.backups.filter { $0.repositories.contains(repository.name) }.map(\.name)
        }
    }

    /// What is known of a repository (`GET /repositories/{name}`'s `stats`).
    public struct RepositoryStats: Codable, Sendable {
        /// This host's snapshots (other hosts' are never counted nor shown); null when it could not be read.
        public var snapshotCount: Int?
        public var latestSnapshot: Snapshot?
        public var lastBackupBytesAdded: UInt64?
        public var lastBackupBytesProcessed: UInt64?
        public var lastBackupFilesProcessed: UInt64?
        /// Why the repository could not be read, when it could not; null when it could.
        public var error: String?

        public init(snapshotCount: Int? = nil, latestSnapshot: Snapshot? = nil, lastBackupBytesAdded: UInt64? = nil, lastBackupBytesProcessed: UInt64? = nil, lastBackupFilesProcessed: UInt64? = nil, error: String? = nil) {
            self.snapshotCount = snapshotCount
            self.latestSnapshot = latestSnapshot
            self.lastBackupBytesAdded = lastBackupBytesAdded
            self.lastBackupBytesProcessed = lastBackupBytesProcessed
            self.lastBackupFilesProcessed = lastBackupFilesProcessed
            self.error = error
        }
    }

    /// `GET /repositories/{name}`: the overview's keys, and more. Encodable only: its `definition` is the
    /// configuration's free-form rendering.
    public struct RepositoryDetail: Encodable, Sendable {
        public var name: String
        public var driver: String
        public var location: String
        public var backup: String?
        public var backups: [String]
        /// As configured, defaults filled in; password and env values as `***`.
        public var definition: JSONValue
        public var stats: RepositoryStats
        /// The newest check job, in any state (without its log).
        public var lastCheck: JobRecord?
        public var nextCheck: PlannedRun?

        public init(overview: RepositoryOverview, definition: JSONValue, stats: RepositoryStats, lastCheck: JobRecord?, nextCheck: PlannedRun?) {
            name = overview.name
            driver = overview.driver
            location = overview.location
            backup = overview.backup
            backups = overview.backups
            self.definition = definition
            self.stats = stats
            self.lastCheck = lastCheck?.summary
            self.nextCheck = nextCheck
        }
    }
}
