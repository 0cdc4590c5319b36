import Foundation
import Logging
import Synchronization

/// What a configuration reload changed, and what waits for a restart.
public struct ReloadResult: Sendable, Hashable, Codable {
    /// The file that was read.
    public var source: String
    /// Top-level settings, backups and repositories that differ from the configuration before (`backups.photos`,
    /// `max_concurrent_jobs`…); empty when the file did not change anything the engine uses.
    public var changed: [String]
    /// Settings that changed in the file but keep their old value until the daemon restarts (`hostname`,
    /// `data_dir`, `mode`, `api.listen`, `watch` for the file watchers, `plugin_dirs`, `log`).
    public var restartRequired: [String]
    /// The new configuration's warnings (an unencrypted tar repository…).
    public var warnings: [ConfigurationIssue]

    public init(source: String, changed: [String], restartRequired: [String], warnings: [ConfigurationIssue]) {
        self.source = source
        self.changed = changed
        self.restartRequired = restartRequired
        self.warnings = warnings
    }
}

/// What the daemon's command line changes in the file's configuration: `--read-only` and `--hostname`.
public struct ConfigurationOverrides: Sendable, Hashable {
    public var mode: Configuration.Mode?
    public var hostname: String?
    public init(mode: Configuration.Mode? = nil, hostname: String? = nil) {
        self.mode = mode
        self.hostname = hostname
    }

    public func apply(to configuration: inout Configuration) {
        if let mode { configuration.mode = mode }
        if let hostname { configuration.hostname = hostname }
    }
}

/// The configuration in force and the daemon's command-line overrides: read by every part of the engine
/// (each job takes the one in force when it starts), replaced only by ``reload(_:at:)``. It also knows when
/// each backup and repository came into force, so that one added by a reload is not judged overdue, nor its
/// cron schedule fired, counting from the engine's start.
final class ConfigurationInForce: Sendable {
    private struct State {
        var configuration: Configuration
        /// The daemon's command-line overrides (`--read-only`, `--hostname`), applied to every reloaded file too.
        var overrides = ConfigurationOverrides()
        /// When backups and repositories added by a reload appeared (`backup:NAME`, `repository:NAME`).
        var appearances: [String: Date] = [:]
    }

    private let state: Mutex<State>
    /// When the engine was built: what was in force from the start counts from here.
    let since: Date

    init(_ configuration: Configuration, since: Date = Date()) {
        state = Mutex(State(configuration: configuration))
        self.since = since
    }

    var current: Configuration { state.withLock { $0.configuration } }

    var overrides: ConfigurationOverrides {
        get { state.withLock { $0.overrides } }
        set { state.withLock { $0.overrides = newValue } }
    }

    /// When a backup came into force: the reload that added it, else the engine's start.
    func appearance(ofBackup name: String) -> Date {
        state.withLock { $0.appearances["backup:\(name)"] } ?? since
    }

    /// When a repository came into force: the reload that added it, else the engine's start.
    func appearance(ofRepository name: String) -> Date {
        state.withLock { $0.appearances["repository:\(name)"] } ?? since
    }

    /// When the target of a scheduled operation came into force (a prune's or a drill's is its backup's).
    func appearance(of operation: JobOperation) -> Date {
        if let backup = operation.backup { return appearance(ofBackup: backup) }
        return appearance(ofRepository: operation.target)
    }

    /// Puts a new, valid configuration in force and says what changed (see ``Engine/reload(_:)``); throws,
    /// changing nothing, when it would open the API. Backups and repositories it adds appear at `date`.
    func reload(_ proposed: Configuration, at date: Date) throws(ConfigurationError) -> ReloadResult {
        let old = current
        var new = proposed
        overrides.apply(to: &new)
        if !new.api.auth.isRequired, !ConfigurationReader.isLoopback(ConfigurationReader.listenHost(old.api.listen)) {
            throw ConfigurationError(issues: [ConfigurationIssue(
                file: new.sourcePath, line: 1, column: 1, keyPath: "api.auth",
                message: "the daemon listens on \(old.api.listen), which other machines reach, so api.auth must keep tokens or users (a new api.listen only applies at a restart)"
            )])
        }
        var restartRequired: [String] = []
        if new.hostname != old.hostname { restartRequired.append("hostname") }
        if new.dataDirectory != old.dataDirectory { restartRequired.append("data_dir") }
        if new.mode != old.mode { restartRequired.append("mode") }
        if new.api.listen != old.api.listen { restartRequired.append("api.listen") }
        if Self.watchKey(new) != Self.watchKey(old) { restartRequired.append("watch") }
        // The plugins were found and described when the daemon started.
        if new.pluginDirectories != old.pluginDirectories { restartRequired.append("plugin_dirs") }
        // Logging is set up once per process.
        if Self.logKey(new) != Self.logKey(old) { restartRequired.append("log") }
        new.hostname = old.hostname
        new.dataDirectory = old.dataDirectory
        new.mode = old.mode
        new.api.listen = old.api.listen
        new.pluginDirectories = old.pluginDirectories

        new.log = old.log
        let changed = Self.differences(old, new)
        let appeared = Self.appearances(old: old, new: new, at: date)
        state.withLock { state in
            state.configuration = new
            for (key, date) in appeared { state.appearances[key] = date }
        }
        return ReloadResult(source: new.sourcePath, changed: changed, restartRequired: restartRequired, warnings: new.warnings)
    }

    /// The backups and repositories `new` adds (at `date`) and removes (nil: forgotten, so a name added back
    /// later counts from then).
    static func appearances(old: Configuration, new: Configuration, at date: Date) -> [String: Date?] {
        var changes: [String: Date?] = [:]
        let oldBackups = Set(old.backups.map(\.name))
        let newBackups = Set(new.backups.map(\.name))
        for name in newBackups.subtracting(oldBackups) { changes["backup:\(name)"] = .some(date) }
        for name in oldBackups.subtracting(newBackups) { changes["backup:\(name)"] = .some(nil) }
        let oldRepositories = Set(old.repositories.keys)
        let newRepositories = Set(new.repositories.keys)
        for name in newRepositories.subtracting(oldRepositories) { changes["repository:\(name)"] = .some(date) }
        for name in oldRepositories.subtracting(newRepositories) { changes["repository:\(name)"] = .some(nil) }
        return changes
    }

    static func logKey(_ configuration: Configuration) -> String {
        "\(configuration.log.level)|\(configuration.log.levels.sorted { $0.key < $1.key })"
    }

    /// What the watchers were built from: a change here needs a restart.
    static func watchKey(_ configuration: Configuration) -> [String] {
        configuration.backups.compactMap { backup in
            backup.watch.map { "\(backup.name)|\($0.latency)|\($0.maxWait)|\(backup.paths)|\(backup.excludes)" }
        }
    }

    /// Names of what differs, compared through the redacted YAML of each part (secrets included by their
    /// presence only, so a changed password shows as a changed repository through its hash below).
    static func differences(_ old: Configuration, _ new: Configuration) -> [String] {
        var changed: [String] = []
        let scalars: [(String, (Configuration) -> String)] = [
            ("timezone", { $0.timeZone.identifier }),
            ("api.auth", { c in "\(c.api.auth.tokens.map { "\($0.name):\($0.value.value.hashValue)" })|\(c.api.auth.users.map { "\($0.name):\($0.passwordHash.value)" })" }),
            ("max_concurrent_jobs", { String($0.maxConcurrentJobs) }),
            ("shutdown_grace", { "\($0.shutdownGrace)" }),
            ("status_interval", { "\($0.statusInterval)" }),
            ("stall_warning", { "\($0.stallWarning)" }),
            ("job_history", { "\($0.jobHistory.keep)|\($0.jobHistory.maxJobs)" }),
            ("limits", { "\($0.limits)" }),
            ("retry", { "\($0.retry)" }),
            ("executables", { "\($0.executables.sorted { $0.key < $1.key })" }),
            ("restore", { "\($0.restore.allowedTargets)" }),
        ]
        for (name, value) in scalars where value(old) != value(new) { changed.append(name) }
        let oldRepositories = old.repositories.mapValues(Self.fingerprint)
        let newRepositories = new.repositories.mapValues(Self.fingerprint)
        for name in Set(oldRepositories.keys).union(newRepositories.keys).sorted() where oldRepositories[name] != newRepositories[name] {
            changed.append("repositories.\(name)")
        }
        let oldBackups = Dictionary(old.backups.map { ($0.name, new.backupNodeText($0)) }, uniquingKeysWith: { a, _ in a })
        let newBackups = Dictionary(new.backups.map { ($0.name, new.backupNodeText($0)) }, uniquingKeysWith: { a, _ in a })
        for name in Set(oldBackups.keys).union(newBackups.keys).sorted() where oldBackups[name] != newBackups[name] {
            changed.append("backups.\(name)")
        }
        return changed
    }

    static func fingerprint(_ repository: Configuration.Repository) -> String {
        let secrets = ([repository.password?.value ?? ""] + repository.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.value)" }).joined(separator: "\u{0}")
        return "\(repository.driver)|\(repository.location)|\(repository.passwordFile ?? "")|\(repository.passwordCommand ?? "")|\(repository.autoInit)|\(repository.limits)|\(repository.check.schedules)|\(repository.check.readDataSubset ?? "")|\(repository.definedInBackup ?? "")|\(secrets.hashValue)"
    }
}
