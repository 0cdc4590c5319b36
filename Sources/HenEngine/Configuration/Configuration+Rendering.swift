import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Yams

extension Configuration {
    /// The loaded configuration as YAML, defaults filled in and paths resolved, with every secret
    /// (passwords, `env` values, HTTP header values) written `***` and credentials in locations and URLs
    /// hidden. For `config check --show` and support requests: safe to paste.
    public func redactedYAML() -> String {
        var root: [(Yams.Node, Yams.Node)] = [
            ("hostname", .init(hostname)),
            ("data_dir", .init(dataDirectory)),
            ("timezone", .init(timeZone.identifier)),
            ("mode", .init(mode.rawValue)),
            ("api", Self.mapping([
                ("listen", .init(api.listen)), ("auth", Self.authNode(api.auth)),
                ("allowed_hosts", .sequence(.init(api.allowedHosts.map { .init($0) }))),
            ])),
            ("max_concurrent_jobs", .init(String(maxConcurrentJobs))),
            ("shutdown_grace", .init(DurationText.format(shutdownGrace))),
            ("status_interval", .init(DurationText.format(statusInterval))),
            ("stall_warning", .init(DurationText.format(stallWarning))),
            ("job_history", Self.mapping([("keep", .init(DurationText.format(jobHistory.keep))), ("max_jobs", .init(String(jobHistory.maxJobs)))])),
        ]
        if let node = Self.limitsNode(limits) { root.append(("limits", node)) }
        root.append(("retry", Self.retryNode(retry)))
        root.append(("log", Self.mapping([("level", .init(log.level)), ("levels", Self.mapping(log.levels.sorted { $0.key < $1.key }.map { (.init($0.key), .init($0.value)) }))])))
        root.append(("executables", Self.mapping(executables.sorted { $0.key < $1.key }.map { (.init($0.key), .init($0.value)) })))
        if !pluginDirectories.isEmpty { root.append(("plugin_dirs", .sequence(.init(pluginDirectories.map { .init($0) })))) }
        let globals = repositories.values.filter { $0.definedInBackup == nil }.sorted { $0.name < $1.name }
        root.append(("repositories", Self.mapping(globals.map { (.init($0.name), Self.repositoryNode($0, inline: false)) })))
        root.append(("backups", Self.mapping(backups.map { (.init($0.name), backupNode($0)) })))
        root.append(("restore", Self.mapping([("allowed_targets", .sequence(.init(restore.allowedTargets.map { .init($0) })))])))
        let node = Self.mapping(root.map { ($0.0, $0.1) })
        return (try? Yams.serialize(node: node, sortKeys: false)) ?? ""
    }

    static func mapping(_ pairs: [(Yams.Node, Yams.Node)]) -> Yams.Node {
        .mapping(.init(pairs))
    }

    static var redacted: Yams.Node { Yams.Node("***") }

    static func authNode(_ auth: API.Auth) -> Yams.Node {
        guard auth.isRequired else { return Yams.Node("none") }
        var pairs: [(Yams.Node, Yams.Node)] = []
        if !auth.tokens.isEmpty {
            pairs.append(("tokens", .sequence(.init(auth.tokens.map { mapping([("name", .init($0.name)), ("token", redacted)]) }))))
        }
        if !auth.users.isEmpty {
            pairs.append(("users", .sequence(.init(auth.users.map { mapping([("name", .init($0.name)), ("password_hash", redacted)]) }))))
        }
        return mapping(pairs)
    }

    static func limitsNode(_ limits: TransferLimits) -> Yams.Node? {
        var pairs: [(Yams.Node, Yams.Node)] = []
        if let upload = limits.uploadBytesPerSecond { pairs.append(("upload", .init(ConfigurationUnits.size(upload)))) }
        if let download = limits.downloadBytesPerSecond { pairs.append(("download", .init(ConfigurationUnits.size(download)))) }
        return pairs.isEmpty ? nil : mapping(pairs)
    }

    static func schedulesNode(_ schedules: [Schedule]) -> Yams.Node {
        .sequence(.init(schedules.map { schedule in
            switch schedule {
            case .every(_, let text): Yams.Node(text)
            case .cron(let expression): Yams.Node(expression.text)
            }
        }))
    }

    static func secretsNode(_ environment: [String: Secret]) -> Yams.Node {
        mapping(environment.keys.sorted().map { (.init($0), redacted) })
    }

    static func repositoryNode(_ repository: Repository, inline: Bool) -> Yams.Node {
        var pairs: [(Yams.Node, Yams.Node)] = []
        if inline { pairs.append(("name", .init(repository.name))) }
        pairs.append(("driver", .init(repository.driver)))
        pairs.append(("location", .init(LocationRedaction.redact(repository.location))))
        if repository.password != nil { pairs.append(("password", redacted)) }
        if let file = repository.passwordFile { pairs.append(("password_file", .init(file))) }
        if let command = repository.passwordCommand { pairs.append(("password_command", .init(command))) }
        if !repository.environment.isEmpty { pairs.append(("env", secretsNode(repository.environment))) }
        pairs.append(("auto_init", .init(repository.autoInit ? "true" : "false")))
        if let limits = limitsNode(repository.limits) { pairs.append(("limits", limits)) }
        var check: [(Yams.Node, Yams.Node)] = []
        if !repository.check.schedules.isEmpty { check.append(("schedules", schedulesNode(repository.check.schedules))) }
        if let subset = repository.check.readDataSubset { check.append(("read_data_subset", .init(subset))) }
        if let maxDuration = repository.check.maxDuration { check.append(("max_duration", .init(DurationText.format(maxDuration)))) }
        if let hooks = hooksNode(repository.check.hooks) { check.append(("hooks", hooks)) }
        if !check.isEmpty { pairs.append(("check", mapping(check))) }
        return mapping(pairs)
    }

    /// One backup as redacted YAML (to tell whether a reload changed it).
    func backupNodeText(_ backup: Backup) -> String {
        (try? Yams.serialize(node: backupNode(backup), sortKeys: false)) ?? ""
    }

    func backupNode(_ backup: Backup) -> Yams.Node {
        var pairs: [(Yams.Node, Yams.Node)] = [
            ("paths", .sequence(.init(backup.paths.map { .init($0) }))),
        ]
        if !backup.excludes.isEmpty { pairs.append(("excludes", .sequence(.init(backup.excludes.map { .init($0) })))) }
        pairs.append(("repositories", .sequence(.init(backup.repositories.map { name in
            if let repository = repositories[name], repository.definedInBackup == backup.name {
                return Self.repositoryNode(repository, inline: true)
            }
            return .init(name)
        }))))
        pairs.append(("schedules", Self.schedulesNode(backup.schedules)))
        if let watch = backup.watch {
            pairs.append(("watch", Self.mapping([("latency", .init(DurationText.format(watch.latency))), ("max_wait", .init(DurationText.format(watch.maxWait)))])))
        }
        pairs.append(("priority", .init(backup.priority.description)))
        if let maxDuration = backup.maxDuration { pairs.append(("max_duration", .init(DurationText.format(maxDuration)))) }
        if let limits = Self.limitsNode(backup.limits) { pairs.append(("limits", limits)) }
        if backup.nice != Niceness() {
            var nice: [(Yams.Node, Yams.Node)] = []
            if let cpu = backup.nice.cpu { nice.append(("cpu", .init(String(cpu)))) }
            if let io = backup.nice.io { nice.append(("io", .init(Self.ioText(io)))) }
            pairs.append(("nice", Self.mapping(nice)))
        }
        if let retention = backup.retention { pairs.append(("retention", Self.retentionNode(retention))) }
        var prune: [(Yams.Node, Yams.Node)] = []
        if !backup.prune.schedules.isEmpty { prune.append(("schedules", Self.schedulesNode(backup.prune.schedules))) }
        if let maxDuration = backup.prune.maxDuration { prune.append(("max_duration", .init(DurationText.format(maxDuration)))) }
        if let hooks = Self.hooksNode(backup.prune.hooks) { prune.append(("hooks", hooks)) }
        if !prune.isEmpty { pairs.append(("prune", Self.mapping(prune))) }
        if let hooks = Self.hooksNode(backup.hooks) { pairs.append(("hooks", hooks)) }
        if let alarm = backup.alarm {
            pairs.append(("alarm", Self.mapping([("removed_over", .init(alarm.removedOver.description)), ("protect", .init(alarm.protect ? "true" : "false"))])))
        }
        if let drill = backup.drill {
            var items: [(Yams.Node, Yams.Node)] = []
            if !drill.schedules.isEmpty { items.append(("schedules", Self.schedulesNode(drill.schedules))) }
            items.append(("sample", .init(drill.sample.description)))
            if let maxBytes = drill.maxBytes { items.append(("max_bytes", .init(ConfigurationUnits.size(maxBytes)))) }
            if let hooks = Self.hooksNode(drill.hooks) { items.append(("hooks", hooks)) }
            pairs.append(("drill", Self.mapping(items)))
        }
        if let retry = backup.retry { pairs.append(("retry", Self.retryNode(retry))) }
        return Self.mapping(pairs)
    }

    static func retryNode(_ retry: RetryPolicy) -> Yams.Node {
        mapping([
            ("attempts", .init(String(retry.attempts))), ("backoff", .init(DurationText.format(retry.backoff))),
            ("max_backoff", .init(DurationText.format(retry.maxBackoff))),
        ])
    }

    /// `{before: [...], after: [...], ...}` with the phases that have hooks; nil when none has.
    static func hooksNode(_ hooks: Backup.Hooks) -> Yams.Node? {
        let phases: [(Yams.Node, Yams.Node)] = HookPhase.allCases.compactMap { phase in
            let list = hooks.hooks(for: phase)
            return list.isEmpty ? nil : (.init(phase.rawValue), .sequence(.init(list.map(Self.hookNode))))
        }
        return phases.isEmpty ? nil : Self.mapping(phases)
    }

    static func ioText(_ io: Niceness.IOClass) -> String {
        switch io {
        case .idle: "idle"
        case .bestEffort(let level): level.map { "best-effort:\($0)" } ?? "best-effort"
        case .realtime(let level): level.map { "realtime:\($0)" } ?? "realtime"
        }
    }

    static func retentionNode(_ policy: RetentionPolicy) -> Yams.Node {
        var pairs: [(Yams.Node, Yams.Node)] = []
        for (key, value) in [("keep_last", policy.keepLast), ("keep_hourly", policy.keepHourly), ("keep_daily", policy.keepDaily), ("keep_weekly", policy.keepWeekly), ("keep_monthly", policy.keepMonthly), ("keep_yearly", policy.keepYearly)] {
            if let value { pairs.append((.init(key), .init(String(value)))) }
        }
        if let within = policy.keepWithin { pairs.append(("keep_within", .init(keepWithinText(within)))) }
        if !policy.keepTags.isEmpty { pairs.append(("keep_tags", .sequence(.init(policy.keepTags.map { .init($0) })))) }
        return mapping(pairs)
    }

    /// A ``KeepWithin`` in Hen's units (days and hours; `m` would be minutes here, so months never appear).
    static func keepWithinText(_ within: KeepWithin) -> String {
        var text = ""
        let days = within.days + within.months * 30 + within.years * 365
        if days > 0 { text += "\(days)d" }
        if within.hours > 0 { text += "\(within.hours)h" }
        return text.isEmpty ? "0h" : text
    }

    static func hookNode(_ hook: HookDefinition) -> Yams.Node {
        var pairs: [(Yams.Node, Yams.Node)] = []
        switch hook.action {
        case .command(let command):
            switch command.invocation {
            case .argv(let argv): pairs.append(("command", .sequence(.init(argv.map { .init($0) }))))
            case .shell(let script): pairs.append(("shell", .init(script)))
            }
            if let cwd = command.workingDirectory { pairs.append(("cwd", .init(cwd))) }
            if !command.environment.isEmpty { pairs.append(("env", secretsNode(command.environment))) }
            if let timeout = command.timeout { pairs.append(("timeout", .init(DurationText.format(.seconds(timeout))))) }
        case .http(let http):
            let url = http.redactingURLSecrets(LocationRedaction.redact(http.url))
            var fields: [(Yams.Node, Yams.Node)] = [("url", .init(url)), ("method", .init(http.method))]
            if !http.headers.isEmpty { fields.append(("headers", secretsNode(http.headers))) }
            switch http.body {
            case .text(let text)?: fields.append(("body", .init(text)))
            case .json(let text)?: fields.append(("body", .init(text)))
            case nil: break
            }
            fields.append(("timeout", .init(DurationText.format(.seconds(http.timeout)))))
            fields.append(("retries", .init(String(http.retries))))
            if !http.expectStatus.isEmpty { fields.append(("expect_status", .sequence(.init(http.expectStatus.map { .init(String($0)) })))) }
            if let caFile = http.caFile { fields.append(("ca_file", .init(caFile))) }
            if http.insecure { fields.append(("insecure", "true")) }
            pairs.append(("http", mapping(fields)))
        }
        pairs.append(("on_failure", .init(hook.onFailure.rawValue)))
        return mapping(pairs)
    }
}
