import Foundation
import HenDrivers
import HenHooks
import HenProcess

/// A loaded, validated configuration: what the daemon, the CLI and the API work from.
/// Built only by ``ConfigurationLoader``; every path in it is absolute and every secret resolved.
public struct Configuration: Sendable {
    /// The file it was read from (for messages).
    public var sourcePath: String
    /// Every operation is confined to this host's snapshots. Default: the machine's hostname.
    public var hostname: String
    /// Where the job store, caches and indexes live.
    public var dataDirectory: String
    public var timeZone: TimeZone
    public var mode: Mode
    public var api: API
    public var maxConcurrentJobs: Int
    /// How long a running job may finish on shutdown before it is stopped.
    public var shutdownGrace: Duration
    /// How often the daemon logs a status line.
    public var statusInterval: Duration
    /// A running job silent for this long gets a warning.
    public var stallWarning: Duration
    public var jobHistory: JobHistory
    /// Default limits for every backup.
    public var limits: TransferLimits
    /// Retries of steps that failed for a passing reason, for every job (a backup's own `retry` wins).
    public var retry = RetryPolicy()
    public var log: Log
    /// Executables by name (`restic`), when not looked up in PATH.
    public var executables: [String: String]
    /// `plugin_dirs`: directories searched first for driver plugins (`hen-plugin-<driver>`), absolute. Read
    /// when the daemon starts (a change needs a restart).
    public var pluginDirectories: [String] = []
    /// Every repository, global and inline, by name.
    public var repositories: [String: Repository]
    /// Backups in the order of the file.
    public var backups: [Backup]
    public var restore: Restore
    /// Things worth saying that are not errors (a tar repository is not encrypted, say).
    public var warnings: [ConfigurationIssue]

    public enum Mode: String, Sendable, Codable {
        /// Backs up, prunes, checks on schedule.
        case normal
        /// Read-only: browse and restore, never write to a repository.
        case recovery
    }

    public struct API: Sendable {
        /// `host:port`.
        public var listen: String
        /// Who may call the API. Empty (`auth: none`, the default) is allowed only on a loopback address.
        public var auth: Auth
        /// `api.allowed_hosts`: more names the API answers to (a reverse proxy's `backup.example.com`, with an
        /// optional `:port`), beside the loopback names and the listen address. Lowercase.
        public var allowedHosts: [String]
        public init(listen: String, auth: Auth = Auth(), allowedHosts: [String] = []) {
            self.listen = listen
            self.auth = auth
            self.allowedHosts = allowedHosts
        }

        /// `api.auth`: bearer tokens and/or users with bcrypt password hashes (HTTP basic and the UI's login).
        public struct Auth: Sendable {
            public var tokens: [Token]
            public var users: [User]
            public init(tokens: [Token] = [], users: [User] = []) {
                self.tokens = tokens
                self.users = users
            }
            /// False for `auth: none`: every request is let in (loopback only).
            public var isRequired: Bool { !tokens.isEmpty || !users.isEmpty }
        }

        public struct Token: Sendable {
            /// A label for logs (`ci`), never the token; `token-1`… when not given.
            public var name: String
            public var value: Secret
            public init(name: String, value: Secret) {
                self.name = name
                self.value = value
            }
        }

        public struct User: Sendable {
            public var name: String
            /// A bcrypt hash (`$2y$…`, as `htpasswd -B` makes, or `$2a$`/`$2b$`).
            public var passwordHash: Secret
            public init(name: String, passwordHash: Secret) {
                self.name = name
                self.passwordHash = passwordHash
            }
        }
    }

    public struct JobHistory: Sendable {
        public var keep: Duration
        public var maxJobs: Int
        public init(keep: Duration, maxJobs: Int) {
            self.keep = keep
            self.maxJobs = maxJobs
        }
    }

    public struct Log: Sendable {
        public var level: String
        /// Per component (`driver`, `engine`, `hooks`, `api`).
        public var levels: [String: String]
        public init(level: String, levels: [String: String]) {
            self.level = level
            self.levels = levels
        }
    }

    public struct Restore: Sendable {
        /// Restores may only write below these directories (absolute).
        public var allowedTargets: [String]
        public init(allowedTargets: [String]) { self.allowedTargets = allowedTargets }
    }

    public struct Repository: Sendable {
        public var name: String
        /// The driver of a repository whose configuration names none.
        public static let defaultDriver = DriverRegistry.defaultDriver
        /// The driver's registry name.
        public var driver: String
        public var location: String
        public var password: Secret?
        public var passwordFile: String?
        /// restic's `--password-command`: run by restic at each use, its stdout is the password.
        public var passwordCommand: String?
        public var environment: [String: Secret]
        /// Create the repository on first use.
        public var autoInit: Bool
        public var limits: TransferLimits
        public var check: Check
        /// Nil for a global repository; the backup's name for one defined inline.
        public var definedInBackup: String?

        public struct Check: Sendable {
            public var schedules: [Schedule]
            public var readDataSubset: String?
            /// Hooks around each check job of this repository.
            public var hooks: Backup.Hooks
            /// A check running longer is stopped and ends `timed_out`.
            public var maxDuration: Duration?
            public init(schedules: [Schedule] = [], readDataSubset: String? = nil, hooks: Backup.Hooks = Backup.Hooks(), maxDuration: Duration? = nil) {
                self.schedules = schedules
                self.readDataSubset = readDataSubset
                self.hooks = hooks
                self.maxDuration = maxDuration
            }
        }

        public init(name: String, driver: String = Repository.defaultDriver, location: String, password: Secret? = nil, passwordFile: String? = nil, passwordCommand: String? = nil, environment: [String: Secret] = [:], autoInit: Bool = true, limits: TransferLimits = TransferLimits(), check: Check = Check(), definedInBackup: String? = nil) {
            self.name = name
            self.driver = driver
            self.location = location
            self.password = password
            self.passwordFile = passwordFile
            self.passwordCommand = passwordCommand
            self.environment = environment
            self.autoInit = autoInit
            self.limits = limits
            self.check = check
            self.definedInBackup = definedInBackup
        }

        /// What a driver needs to open it.
        public var target: RepositoryTarget {
            RepositoryTarget(name: name, location: location, password: password, passwordFile: passwordFile, passwordCommand: passwordCommand, environment: environment, limits: limits)
        }
    }

    public struct Backup: Sendable {
        public var name: String
        /// Absolute paths.
        public var paths: [String]
        public var excludes: [String]
        /// Repository names, in the order written (each is in ``Configuration/repositories``).
        public var repositories: [String]
        public var schedules: [Schedule]
        public var watch: Watch?
        public var priority: JobPriority
        public var maxDuration: Duration?
        public var limits: TransferLimits
        public var nice: Niceness
        public var retention: RetentionPolicy?
        public var prune: Prune
        public var hooks: Hooks
        /// The mass-deletion alarm: nil when the backup has none.
        public var alarm: Alarm?
        /// Restore drills: nil when the backup has none configured (a drill may still be asked for).
        public var drill: Drill?
        /// This backup's retries (its backup and prune jobs); nil: the global `retry`.
        public var retry: RetryPolicy?

        public struct Watch: Sendable, Hashable {
            /// Quiet period after the last change.
            public var latency: Duration
            /// Longest wait after the first change.
            public var maxWait: Duration
            public init(latency: Duration, maxWait: Duration) {
                self.latency = latency
                self.maxWait = maxWait
            }
        }

        public struct Prune: Sendable {
            public var schedules: [Schedule]
            /// Hooks around each prune job of this backup.
            public var hooks: Hooks
            /// A prune running longer is stopped (restic cleanly, no lock left) and ends `timed_out`.
            public var maxDuration: Duration?
            public init(schedules: [Schedule] = [], hooks: Hooks = Hooks(), maxDuration: Duration? = nil) {
                self.schedules = schedules
                self.hooks = hooks
                self.maxDuration = maxDuration
            }
        }

        public struct Hooks: Sendable {
            public var before: [HookDefinition]
            public var after: [HookDefinition]
            public var failure: [HookDefinition]
            public var finally: [HookDefinition]
            /// A backup's only: when its mass-deletion alarm goes off (after `after`, before `finally`).
            public var alarm: [HookDefinition]
            public init(before: [HookDefinition] = [], after: [HookDefinition] = [], failure: [HookDefinition] = [], finally: [HookDefinition] = [], alarm: [HookDefinition] = []) {
                self.before = before
                self.after = after
                self.failure = failure
                self.finally = finally
                self.alarm = alarm
            }
            public func hooks(for phase: HookPhase) -> [HookDefinition] {
                switch phase {
                case .before: before
                case .after: after
                case .failure: failure
                case .finally: finally
                case .alarm: alarm
                }
            }
        }

        /// `alarm: { removed_over: 30% | 500, protect: true }`.
        public struct Alarm: Sendable, Hashable {
            public enum Threshold: Sendable, Hashable, CustomStringConvertible {
                /// More than this share (0 < p <= 100) of the parent snapshot's files.
                case percent(Double)
                /// More than this many files.
                case count(Int)
                public var description: String {
                    switch self {
                    case .percent(let value): value == value.rounded() ? "\(Int(value))%" : "\(value)%"
                    case .count(let value): "\(value)"
                    }
                }
            }
            public var removedOver: Threshold
            /// Hold the backup's prunes back until the alarm is acknowledged.
            public var protect: Bool
            public init(removedOver: Threshold, protect: Bool = false) {
                self.removedOver = removedOver
                self.protect = protect
            }
        }

        /// `drill: { schedules: [1w], sample: 200 | 10%, max_bytes: 1G }`.
        public struct Drill: Sendable {
            public enum Sample: Sendable, Hashable, CustomStringConvertible {
                case count(Int)
                /// 0 < p <= 100 percent of the snapshot's files.
                case percent(Double)
                public var description: String {
                    switch self {
                    case .count(let value): "\(value)"
                    case .percent(let value): value == value.rounded() ? "\(Int(value))%" : "\(value)%"
                    }
                }
            }
            public var schedules: [Schedule]
            public var sample: Sample
            /// At most this many bytes restored per repository (nil: no bound).
            public var maxBytes: Int?
            /// Hooks around each drill job of this backup.
            public var hooks: Hooks
            public init(schedules: [Schedule] = [], sample: Sample = .count(Drill.defaultSample), maxBytes: Int? = nil, hooks: Hooks = Hooks()) {
                self.schedules = schedules
                self.sample = sample
                self.maxBytes = maxBytes
                self.hooks = hooks
            }
            public static let defaultSample = 100
        }

        public init(name: String, paths: [String], excludes: [String] = [], repositories: [String], schedules: [Schedule] = [], watch: Watch? = nil, priority: JobPriority = .normal, maxDuration: Duration? = nil, limits: TransferLimits = TransferLimits(), nice: Niceness = Niceness(), retention: RetentionPolicy? = nil, prune: Prune = Prune(), hooks: Hooks = Hooks(), alarm: Alarm? = nil, drill: Drill? = nil) {
            self.name = name
            self.paths = paths
            self.excludes = excludes
            self.repositories = repositories
            self.schedules = schedules
            self.watch = watch
            self.priority = priority
            self.maxDuration = maxDuration
            self.limits = limits
            self.nice = nice
            self.retention = retention
            self.prune = prune
            self.hooks = hooks
            self.alarm = alarm
            self.drill = drill
        }
    }

    public func backup(named name: String) -> Backup? { backups.first { $0.name == name } }
}

/// When a job should run: `every` a span since its last run, or at the times of a cron expression.
public enum Schedule: Sendable, Hashable, CustomStringConvertible {
    /// "When the last run is older than this" (`1h`): a daemon that was down runs a missed job once.
    case every(Duration, text: String)
    /// Fires at the expression's times in the configured time zone.
    case cron(CronExpression)

    public var description: String {
        switch self {
        case .every(_, let text): "every \(text)"
        case .cron(let expression): "cron \"\(expression.text)\""
        }
    }
}

/// A cron expression with 5 fields, or 6 with seconds first. Each field is the set of values it allows.
public struct CronExpression: Sendable, Hashable {
    /// As written in the configuration.
    public var text: String
    public var seconds: Set<Int>
    public var minutes: Set<Int>
    public var hours: Set<Int>
    /// 1…31.
    public var daysOfMonth: Set<Int>
    /// 1…12.
    public var months: Set<Int>
    /// 0…6, Sunday is 0.
    public var daysOfWeek: Set<Int>
    /// Cron's rule: when both day fields are restricted, a day matches either; when one is `*`, only the other counts.
    public var daysOfMonthRestricted: Bool
    public var daysOfWeekRestricted: Bool

    public init(text: String, seconds: Set<Int>, minutes: Set<Int>, hours: Set<Int>, daysOfMonth: Set<Int>, months: Set<Int>, daysOfWeek: Set<Int>, daysOfMonthRestricted: Bool, daysOfWeekRestricted: Bool) {
        self.text = text
        self.seconds = seconds
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = daysOfMonth
        self.months = months
        self.daysOfWeek = daysOfWeek
        self.daysOfMonthRestricted = daysOfMonthRestricted
        self.daysOfWeekRestricted = daysOfWeekRestricted
    }
}

/// A job's place in the queue. Ordered: immediate > next > level (higher first) > on-idle.
public enum JobPriority: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Starts now, past the concurrency limit.
    case immediate
    /// Head of the queue.
    case next
    /// `superior` is 10, `normal` 0, `inferior` -10; any integer is allowed.
    case level(Int)
    /// Only when nothing else is queued or running.
    case onIdle

    public static let superior = JobPriority.level(10)
    public static let normal = JobPriority.level(0)
    public static let inferior = JobPriority.level(inferiorLevel)
    static let inferiorLevel = -10

    public var description: String {
        switch self {
        case .immediate: "immediate"
        case .next: "next"
        case .onIdle: "on-idle"
        case .level(10): "superior"
        case .level(0): "normal"
        case .level(-10): "inferior"
        case .level(let value): String(value)
        }
    }
}

/// An error or a warning about the configuration, pointing at where it is.
public struct ConfigurationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// `backups.pictures.repositories[1]`.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    /// `config.yml:14:7: backups.pictures.repositories[1]: unknown repository "ovh" (known: local-disk, aws)`.
    public var description: String {
        keyPath.isEmpty ? "\(file):\(line):\(column): \(message)" : "\(file):\(line):\(column): \(keyPath): \(message)"
    }
}

/// Every problem found in a configuration, reported at once.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigurationIssue]
    public init(issues: [ConfigurationIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
