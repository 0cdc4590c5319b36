import Foundation

/// What someone asks the engine to do: one operation, why, and how urgently.
public struct JobRequest: Sendable, Hashable {
    public var operation: JobOperation
    public var trigger: JobTrigger
    /// Nil means the backup's configured priority, or `normal` for operations without a backup.
    public var priority: JobPriority?

    public init(operation: JobOperation, trigger: JobTrigger, priority: JobPriority? = nil) {
        self.operation = operation
        self.trigger = trigger
        self.priority = priority
    }
}

/// One operation on one target. Two requests with equal operations are the same job for dedup.
public enum JobOperation: Sendable, Hashable, Codable {
    /// A backup into its repositories (nil: every repository of the backup).
    case backup(backup: String, repositories: [String]?)
    /// Forget by the backup's retention, limited to its tag and this host, then prune; per repository.
    case prune(backup: String)
    case check(repository: String, readDataSubset: String?)
    case restore(repository: String, snapshot: String, target: String, includes: [String])
    case forget(repository: String, snapshots: [String])
    case initialize(repository: String)
    case unlock(repository: String)
    /// A restore drill: a sample of the backup's latest snapshot in each repository restored into a private
    /// directory below `data_dir` and compared with the unchanged sources.
    case drill(backup: String)

    // JSON (API and job store): keyed by the operation's name, arguments as HenJSON writes them,
    // `{"check": {"repository": "usb", "read_data_subset": "5%"}}`, `{"init": {"repository": "usb"}}`.
    // CodingKeys only because `init` cannot be a case's name in Swift.
    enum CodingKeys: String, CodingKey {
        case backup, prune, check, restore, forget, initialize = "init", unlock, drill
    }

    /// What kind of operation, without its arguments: for filters, plans and routes.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        case backup, prune, check, restore, forget, initialize = "init", unlock, drill
        public var description: String { rawValue }
    }

    public var kind: Kind {
        switch self {
        case .backup: .backup
        case .prune: .prune
        case .check: .check
        case .restore: .restore
        case .forget: .forget
        case .initialize: .initialize
        case .unlock: .unlock
        case .drill: .drill
        }
    }

    /// The operation's name in records and the CLI: `backup`, `prune`, `check`, `restore`, `forget`, `init`, `unlock`, `drill`.
    public var name: String { kind.rawValue }

    /// The backup or repository it works on.
    public var target: String {
        switch self {
        case .backup(let backup, _), .prune(let backup), .drill(let backup): backup
        case .check(let repository, _), .restore(let repository, _, _, _), .forget(let repository, _),
            .initialize(let repository), .unlock(let repository):
            repository
        }
    }

    /// The backup it belongs to, when it has one.
    public var backup: String? {
        switch self {
        case .backup(let backup, _), .prune(let backup), .drill(let backup): backup
        default: nil
        }
    }

    /// Whether it needs its repositories to itself: nothing else may run on them meanwhile.
    public var isExclusive: Bool {
        switch self {
        case .prune, .forget, .check, .unlock, .initialize: true
        case .backup, .restore, .drill: false
        }
    }

    /// The repositories it touches, resolved against the configuration.
    public func repositories(in configuration: Configuration) -> [String] {
        switch self {
        case .backup(let backup, let repositories):
            if let repositories { return repositories }
            return configuration.backup(named: backup)?.repositories ?? []
        case .prune(let backup), .drill(let backup):
            return configuration.backup(named: backup)?.repositories ?? []
        case .check(let repository, _), .restore(let repository, _, _, _), .forget(let repository, _),
            .initialize(let repository), .unlock(let repository):
            return [repository]
        }
    }
}
