import Foundation

extension API {
    /// `POST /backups/{name}/backup`; the server reads `POST /backups/{name}/prune` in this shape too, to
    /// refuse `repositories` there. An empty body is the same as `{}`.
    public struct BackupRequest: Codable, Sendable {
        public var priority: Priority?
        /// Only these repositories of the backup; null for all of them.
        public var repositories: [String]?

        public init(priority: Priority? = nil, repositories: [String]? = nil) {
            self.priority = priority
            self.repositories = repositories
        }
    }

    /// `POST /backups/{name}/prune` and `POST /backups/{name}/drill`, as a client sends them.
    public struct PruneRequest: Codable, Sendable {
        public var priority: Priority?

        public init(priority: Priority? = nil) {
            self.priority = priority
        }
    }

    /// `POST /repositories/{name}/check`; the server reads `…/unlock` in this shape too, to refuse
    /// `read_data_subset` there.
    public struct CheckRequest: Codable, Sendable {
        public var priority: Priority?
        /// `5%`, `1/10`, `500M`; null for the repository's `check.read_data_subset`.
        public var readDataSubset: String?

        public init(priority: Priority? = nil, readDataSubset: String? = nil) {
            self.priority = priority
            self.readDataSubset = readDataSubset
        }
    }

    /// `POST /repositories/{name}/unlock`, as a client sends it.
    public struct UnlockRequest: Codable, Sendable {
        public var priority: Priority?

        public init(priority: Priority? = nil) {
            self.priority = priority
        }
    }

    /// `POST /restores`.
    public struct RestoreRequest: Codable, Sendable {
        public var repository: String
        /// Full id, a unique prefix, or `latest`.
        public var snapshot: String
        /// Paths inside the snapshot; null or empty restores everything.
        public var paths: [String]?
        public var target: String
        public var priority: Priority?

        public init(repository: String, snapshot: String, paths: [String]?, target: String, priority: Priority? = nil) {
            self.repository = repository
            self.snapshot = snapshot
            self.paths = paths
            self.target = target
            self.priority = priority
        }
    }
}
