import Foundation
import HenDrivers
import HenProcess
import Yams

extension ConfigurationReader {
    static let topLevelKeys = [
        "hostname", "data_dir", "timezone", "mode", "api", "max_concurrent_jobs", "shutdown_grace", "status_interval",
        "stall_warning", "job_history", "limits", "retry", "log", "executables", "plugin_dirs", "repositories", "backups", "restore",
    ]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The whole file. Nil when something is missing; the issues say what.
    func readConfiguration(_ root: ConfigNode, loader: ConfigurationLoader, sourcePath: String) -> Configuration? {
        guard let fields = fields(root, allowed: Self.topLevelKeys) else { return nil }

        let hostname = fields["hostname"].flatMap(nonEmptyString) ?? loader.defaultHostname
        let dataDirectory = fields["data_dir"].flatMap(path) ?? ConfigurationLoader.defaultDataDirectory
        var timeZone = loader.defaultTimeZone
        if let node = fields["timezone"], let name = string(node) {
            if let zone = TimeZone(identifier: name) { timeZone = zone } else { error(node, "unknown time zone \"\(name)\" (an IANA name such as Europe/Paris or UTC)") }
        }
        let mode = fields["mode"].flatMap { oneOf($0, ["normal", "recovery"]) }.flatMap(Configuration.Mode.init(rawValue:)) ?? .normal
        let api = readAPI(fields["api"])
        let maxConcurrentJobs = fields["max_concurrent_jobs"].flatMap { int($0, in: 1...Int.max) } ?? 1
        let shutdownGrace = fields["shutdown_grace"].flatMap { duration($0, allowZero: true) } ?? .seconds(30)
        let statusInterval = fields["status_interval"].flatMap { duration($0) } ?? .seconds(60)
        let stallWarning = fields["stall_warning"].flatMap { duration($0) } ?? .seconds(600)
        let jobHistory = readJobHistory(fields["job_history"])
        let limits = fields["limits"].map(readLimits) ?? TransferLimits()
        let log = readLog(fields["log"])
        let executables = readExecutables(fields["executables"])
        let allowedTargets = readRestore(fields["restore"])

        var repositories: [String: Configuration.Repository] = [:]
        var globalOrder: [String] = []
        if let node = fields["repositories"], let entries = namedEntries(node) {
            for entry in entries {
                guard checkName(entry.key, at: ConfigNode(node: entry.keyNode, path: entry.value.path), what: "repository") else { continue }
                if let repository = readRepository(entry.value, name: entry.key, inBackup: nil, drivers: loader.drivers) {
                    repositories[entry.key] = repository
                }
                globalOrder.append(entry.key)
            }
        }

        var backups: [Configuration.Backup] = []
        if let node = fields["backups"], let entries = namedEntries(node) {
            if entries.isEmpty { error(node, "no backup is defined") }
            for entry in entries {
                guard checkName(entry.key, at: ConfigNode(node: entry.keyNode, path: entry.value.path), what: "backup") else { continue }
                if let backup = readBackup(entry.value, name: entry.key, globalNames: globalOrder, repositories: &repositories, drivers: loader.drivers, timeZone: timeZone) {
                    backups.append(backup)
                }
            }
        } else {
            error(root.node, "backups", "no backups: the file needs a \"backups:\" mapping with at least one backup")
        }

        let retry = fields["retry"].flatMap(readRetry) ?? RetryPolicy()
        var configuration = Configuration(
            sourcePath: sourcePath, hostname: hostname, dataDirectory: dataDirectory, timeZone: timeZone, mode: mode, api: api,
            maxConcurrentJobs: maxConcurrentJobs, shutdownGrace: shutdownGrace, statusInterval: statusInterval,
            stallWarning: stallWarning, jobHistory: jobHistory, limits: limits, retry: retry, log: log, executables: executables,
            repositories: repositories, backups: backups, restore: Configuration.Restore(allowedTargets: allowedTargets),
            warnings: []
        )
        configuration.pluginDirectories = fields["plugin_dirs"].flatMap(list)?.compactMap(path) ?? []
        return configuration
    }

    /// Names of backups and repositories appear in tags, URLs and file names: `[A-Za-z0-9._-]+`.
    func checkName(_ name: String, at: ConfigNode, what: String) -> Bool {
        let valid = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        if !valid { error(at, "the \(what) name \"\(name)\" may only contain letters, digits, \".\", \"_\" and \"-\"") }
        return valid
    }

    func readAPI(_ node: ConfigNode?) -> Configuration.API {
        var listen = "127.0.0.1:8420"
        var listenNode = node
        var auth = Configuration.API.Auth()
        var allowedHosts: [String] = []
        guard let node, let fields = fields(node, allowed: ["listen", "auth", "allowed_hosts"]) else { return Configuration.API(listen: listen) }
        if let node = fields["listen"], let value = string(node) {
            listenNode = node
            if let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]), (1...65_535).contains(port), colon != value.startIndex {
                listen = value
            } else {
                error(node, "\"\(value)\" is not host:port (such as 127.0.0.1:8420)")
            }
        }
        if let authNode = fields["auth"] {
            auth = readAuth(authNode)
        }
        for entry in fields["allowed_hosts"].flatMap(list) ?? [] {
            guard let value = string(entry) else { continue }
            if let host = Self.allowedHost(value) {
                if !allowedHosts.contains(host) { allowedHosts.append(host) }
            } else {
                error(entry, "\"\(value)\" is not a host name with an optional port (such as backup.example.com or backup.example.com:443); write the name a browser or client puts in the Host header, without http:// or a path")
            }
        }
        // Anyone who reaches the port could start, cancel and restore: off this machine, that takes auth.
        let host = Self.listenHost(listen)
        if !auth.isRequired, !Self.isLoopback(host), let listenNode {
            error(listenNode, "\(listen) is reachable from other machines, so the API needs api.auth (tokens or users); auth: none is only allowed on a loopback address such as 127.0.0.1")
        }
        return Configuration.API(listen: listen, auth: auth, allowedHosts: allowedHosts)
    }

    /// An `api.allowed_hosts` entry, lowercased: a DNS name, an IPv4 address or a bracketed IPv6 address, with
    /// an optional port; nil for anything else (a URL, a path, a wildcard, an empty string).
    static func allowedHost(_ text: String) -> String? {
        let lowered = text.lowercased()
        var host = Substring(lowered)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && isPort(rest.dropFirst())) else { return nil }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return lowered
        }
        if let colon = host.lastIndex(of: ":") {
            guard isPort(host[host.index(after: colon)...]) else { return nil }
            host = host[..<colon]
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !host.isEmpty && host.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
        return valid ? lowered : nil
    }

    private static func isPort(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let port = Int(text) else { return false }
        return (1...65_535).contains(port)
    }

    func readAuth(_ node: ConfigNode) -> Configuration.API.Auth {
        var auth = Configuration.API.Auth()
        let issuesBefore = issues.count
        if case .scalar = node.node {
            // The value is not repeated: it may be a token pasted in the wrong place.
            if let value = string(node), value != "none" {
                error(node, "this is not an auth setting: write none, or a mapping with tokens and/or users")
            }
            return auth
        }
        guard let fields = fields(node, allowed: ["tokens", "users"]) else { return auth }
        for (index, entry) in (fields["tokens"].flatMap(list) ?? []).enumerated() {
            var name = "token-\(index + 1)"
            var valueNode = entry
            if case .mapping = entry.node {
                guard let tokenFields = self.fields(entry, allowed: ["name", "token"]) else { continue }
                if let nameNode = tokenFields["name"], let value = nonEmptyString(nameNode) { name = value }
                guard let tokenNode = tokenFields["token"] else {
                    error(entry, "a token needs \"token\" (the secret clients send as a bearer token)")
                    continue
                }
                valueNode = tokenNode
            }
            guard let value = string(valueNode) else { continue }
            guard value.count >= 16 else {
                error(valueNode, "a token must be at least 16 characters long (openssl rand -hex 32 makes a good one)")
                continue
            }
            auth.tokens.append(.init(name: name, value: Secret(value)))
        }
        for entry in fields["users"].flatMap(list) ?? [] {
            guard let userFields = self.fields(entry, allowed: ["name", "password_hash"]) else { continue }
            guard let nameNode = userFields["name"], let name = nonEmptyString(nameNode) else {
                error(entry, "a user needs a \"name\"")
                continue
            }
            guard let hashNode = userFields["password_hash"], let hash = string(hashNode) else {
                error(entry, "user \"\(name)\" needs a password_hash (a bcrypt hash: htpasswd -nbB \(name) PASSWORD | cut -d: -f2)")
                continue
            }
            guard Self.isBcryptHash(hash) else {
                error(hashNode, "the password hash of user \"\(name)\" is not a bcrypt hash ($2y$…, $2b$… or $2a$…; htpasswd -nbB \(name) PASSWORD | cut -d: -f2 makes one)")
                continue
            }
            if auth.users.contains(where: { $0.name == name }) {
                error(nameNode, "user \"\(name)\" is defined twice")
                continue
            }
            auth.users.append(.init(name: name, passwordHash: Secret(hash)))
        }
        if auth.tokens.isEmpty, auth.users.isEmpty, issues.count == issuesBefore {
            error(node, "auth lists no token and no user; write auth: none to let every local request in")
        }
        return auth
    }

    /// `$2y$10$` + 53 characters of bcrypt's base64.
    static func isBcryptHash(_ text: String) -> Bool {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, ["2a", "2b", "2y"].contains(parts[1]),
            let cost = Int(parts[2]), (4...31).contains(cost), parts[3].count == 53
        else { return false }
        return parts[3].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "/") }
    }

    /// The host part of `host:port` (`::1` for `[::1]:8420`).
    static func listenHost(_ listen: String) -> String {
        guard let colon = listen.lastIndex(of: ":") else { return listen }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host
    }

    /// `localhost`, `::1` or an IPv4 address in 127.0.0.0/8 (not a name that merely starts with `127.`).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in Int(part).map { (0...255).contains($0) } ?? false }
    }

    func readJobHistory(_ node: ConfigNode?) -> Configuration.JobHistory {
        var history = Configuration.JobHistory(keep: .seconds(90 * 86_400), maxJobs: 10_000)
        guard let node, let fields = fields(node, allowed: ["keep", "max_jobs"]) else { return history }
        if let keep = fields["keep"].flatMap({ duration($0) }) { history.keep = keep }
        if let maxJobs = fields["max_jobs"].flatMap({ int($0, in: 1...Int.max) }) { history.maxJobs = maxJobs }
        return history
    }

    /// `retry: { attempts: 3, backoff: 30s, max_backoff: 10m }`; an omitted key keeps its default.
    func readRetry(_ node: ConfigNode) -> RetryPolicy? {
        guard let fields = fields(node, allowed: ["attempts", "backoff", "max_backoff"]) else { return nil }
        var policy = RetryPolicy()
        if let attempts = fields["attempts"].flatMap({ int($0, in: 1...100) }) { policy.attempts = attempts }
        if let backoff = fields["backoff"].flatMap({ duration($0) }) { policy.backoff = backoff }
        if let maxBackoff = fields["max_backoff"].flatMap({ duration($0) }) { policy.maxBackoff = maxBackoff }
        if let node = fields["max_backoff"], policy.maxBackoff < policy.backoff {
            error(node, "max_backoff (\(DurationText.format(policy.maxBackoff))) is shorter than backoff (\(DurationText.format(policy.backoff)))")
        }
        return policy
    }

    func readLimits(_ node: ConfigNode) -> TransferLimits {
        guard let fields = fields(node, allowed: ["upload", "download"]) else { return TransferLimits() }
        return TransferLimits(uploadBytesPerSecond: fields["upload"].flatMap(rate), downloadBytesPerSecond: fields["download"].flatMap(rate))
    }

    func readLog(_ node: ConfigNode?) -> Configuration.Log {
        var log = Configuration.Log(level: "info", levels: [:])
        guard let node, let fields = fields(node, allowed: ["level", "levels"]) else { return log }
        if let level = fields["level"].flatMap({ oneOf($0, Self.logLevels) }) { log.level = level }
        if let levelsNode = fields["levels"], let entries = namedEntries(levelsNode) {
            for entry in entries {
                if let level = oneOf(entry.value, Self.logLevels) { log.levels[entry.key] = level }
            }
        }
        return log
    }

    /// `restic: /usr/bin/restic`; a bare name is looked up in PATH, a relative path is the config directory's.
    func readExecutables(_ node: ConfigNode?) -> [String: String] {
        guard let node, let entries = namedEntries(node) else { return [:] }
        var executables: [String: String] = [:]
        for entry in entries {
            guard let value = nonEmptyString(entry.value) else { continue }
            executables[entry.key] = value.contains("/") ? resolve(value) : value
        }
        return executables
    }

    func readRestore(_ node: ConfigNode?) -> [String] {
        guard let node, let fields = fields(node, allowed: ["allowed_targets"]) else { return [] }
        return fields["allowed_targets"].flatMap(list)?.compactMap(path) ?? []
    }

    func readSchedules(_ node: ConfigNode) -> [Schedule] {
        guard let items = list(node) else { return [] }
        var schedules: [Schedule] = []
        for item in items {
            guard let text = nonEmptyString(item) else { continue }
            do {
                schedules.append(try Schedule.parse(text))
            } catch {
                self.error(item, error.message)
            }
        }
        return schedules
    }
}
