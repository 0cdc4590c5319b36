import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Yams

extension ConfigurationReader {
    static let backupKeys = [
        "paths", "excludes", "repositories", "schedules", "watch", "priority", "max_duration", "limits", "nice",
        "retention", "prune", "hooks", "alarm", "drill", "retry",
    ]
    static let retentionKeys = ["keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "keep_within", "keep_tags"]

    func readBackup(
        _ node: ConfigNode, name: String, globalNames: [String], repositories: inout [String: Configuration.Repository],
        drivers: DriverRegistry, timeZone: TimeZone
    ) -> Configuration.Backup? {
        guard let fields = fields(node, allowed: Self.backupKeys) else { return nil }
        let issuesBefore = issues.count

        var paths: [String] = []
        if let pathsNode = fields["paths"], let items = list(pathsNode) {
            if items.isEmpty { error(pathsNode, "backup \"\(name)\" has no paths") }
            for item in items {
                guard let path = path(item) else { continue }
                paths.append(path)
                if !FileManager.default.fileExists(atPath: path) {
                    warn(item, "the path \(path) does not exist now (the backup reports it when it runs)")
                }
            }
        } else {
            error(node, "backup \"\(name)\" has no paths")
        }
        let excludes = fields["excludes"].flatMap(stringList) ?? []

        var names: [String] = []
        if let listNode = fields["repositories"], let items = list(listNode) {
            if items.isEmpty { error(listNode, "backup \"\(name)\" names no repository") }
            for item in items {
                guard let repositoryName = readBackupRepository(item, backup: name, globalNames: globalNames, repositories: &repositories, drivers: drivers) else { continue }
                if names.contains(repositoryName) {
                    error(item, "repository \"\(repositoryName)\" appears twice in this backup")
                    continue
                }
                names.append(repositoryName)
            }
        } else {
            error(node, "backup \"\(name)\" has no repositories")
        }

        let schedules = fields["schedules"].map(readSchedules) ?? []
        let watch = fields["watch"].flatMap(readWatch)
        if schedules.isEmpty && watch == nil {
            warn(node, "backup \"\(name)\" has neither schedules nor watch: it runs only on demand")
        }
        let priority = fields["priority"].flatMap(readPriority) ?? .normal
        let maxDuration = fields["max_duration"].flatMap { duration($0) }
        let limits = fields["limits"].map(readLimits) ?? TransferLimits()
        let nice = fields["nice"].map(readNice) ?? Niceness()
        let retention = fields["retention"].flatMap(readRetention)
        var prune = Configuration.Backup.Prune()
        if let pruneNode = fields["prune"], let pruneFields = self.fields(pruneNode, allowed: ["schedules", "max_duration", "hooks"]) {
            prune.schedules = pruneFields["schedules"].map(readSchedules) ?? []
            prune.maxDuration = pruneFields["max_duration"].flatMap { duration($0) }
            prune.hooks = pruneFields["hooks"].map(readHooks) ?? Configuration.Backup.Hooks()
            if fields["retention"] == nil {
                error(pruneNode, "prune needs a retention policy in this backup (retention: { keep_daily: 7, ... })")
            }
        }
        let hooks = fields["hooks"].map { readHooks($0, phases: HookPhase.allCases) } ?? Configuration.Backup.Hooks()
        let alarm = fields["alarm"].flatMap(readAlarm)
        if alarm == nil, !hooks.alarm.isEmpty, let hooksNode = fields["hooks"] {
            warn(hooksNode, "backup \"\(name)\" has alarm hooks but no alarm: { removed_over: ... }, so they never run")
        }
        let drill = fields["drill"].flatMap(readDrill)
        let retry = fields["retry"].flatMap(readRetry)

        guard issues.count == issuesBefore else { return nil }
        var backup = Configuration.Backup(
            name: name, paths: paths, excludes: excludes, repositories: names, schedules: schedules, watch: watch,
            priority: priority, maxDuration: maxDuration, limits: limits, nice: nice, retention: retention, prune: prune, hooks: hooks,
            alarm: alarm, drill: drill
        )
        backup.retry = retry
        return backup
    }

    /// One entry of a backup's `repositories:`: a global name, or an inline definition with `name:`.
    func readBackupRepository(
        _ item: ConfigNode, backup: String, globalNames: [String], repositories: inout [String: Configuration.Repository], drivers: DriverRegistry
    ) -> String? {
        switch item.node {
        case .scalar:
            guard let name = nonEmptyString(item) else { return nil }
            guard globalNames.contains(name) else {
                let known = globalNames.isEmpty ? "no global repositories are defined" : "known: \(globalNames.joined(separator: ", "))"
                var message = "unknown repository \"\(name)\" (\(known))"
                if let suggestion = KeySuggestion.closest(to: name, among: globalNames) { message += "; did you mean \"\(suggestion)\"?" }
                error(item, message)
                return nil
            }
            return name
        case .mapping:
            guard case .mapping(let mapping) = item.node,
                  let nameValue = mapping.first(where: { $0.key.string == "name" })?.value else {
                error(item, "an inline repository needs a name (name: usb)")
                _ = fields(item, allowed: ["name"] + Self.repositoryKeys)
                return nil
            }
            let nameNode = item.child("name", nameValue)
            guard let name = nonEmptyString(nameNode), checkName(name, at: nameNode, what: "repository") else { return nil }
            if globalNames.contains(name) {
                error(nameNode, "the inline repository \"\(name)\" has the name of a global repository; rename one of them")
                return nil
            }
            if let other = repositories[name]?.definedInBackup, other != backup {
                error(nameNode, "the inline repository \"\(name)\" is already defined in backup \"\(other)\"; define it once under repositories: to share it")
                return nil
            }
            if let repository = readRepository(item, name: name, inBackup: backup, drivers: drivers), repositories[name] == nil {
                repositories[name] = repository
            }
            return name
        default:
            error(item, "expected a repository name or an inline repository, found \(item.kind)")
            return nil
        }
    }

    /// `watch: true`, or `watch: { latency: 30s, max_wait: 10m }`.
    func readWatch(_ node: ConfigNode) -> Configuration.Backup.Watch? {
        var watch = Configuration.Backup.Watch(latency: .seconds(30), maxWait: .seconds(600))
        if case .scalar = node.node {
            return bool(node) == true ? watch : nil
        }
        guard let fields = fields(node, allowed: ["latency", "max_wait"]) else { return nil }
        if let latency = fields["latency"].flatMap({ duration($0) }) { watch.latency = latency }
        if let maxWait = fields["max_wait"].flatMap({ duration($0) }) { watch.maxWait = maxWait }
        if watch.maxWait < watch.latency, let at = fields["max_wait"] {
            error(at, "max_wait must not be shorter than latency")
        }
        return watch
    }

    func readPriority(_ node: ConfigNode) -> JobPriority? {
        guard let text = string(node) else { return nil }
        switch text {
        case "immediate": return .immediate
        case "next": return .next
        case "superior": return .superior
        case "normal": return .normal
        case "inferior": return .inferior
        case "on-idle": return .onIdle
        default:
            if let value = Int(text) { return .level(value) }
            var message = "\"\(text)\" is not a priority (immediate, next, superior, normal, inferior, on-idle, or a whole number)"
            if let suggestion = KeySuggestion.closest(to: text, among: ["immediate", "next", "superior", "normal", "inferior", "on-idle"]) {
                message += "; did you mean \"\(suggestion)\"?"
            }
            error(node, message)
            return nil
        }
    }

    /// `nice: { cpu: 10, io: idle | best-effort[:0-7] | realtime[:0-7] }`.
    func readNice(_ node: ConfigNode) -> Niceness {
        guard let fields = fields(node, allowed: ["cpu", "io"]) else { return Niceness() }
        var nice = Niceness(cpu: fields["cpu"].flatMap { int($0, in: 0...19) })
        if let ioNode = fields["io"], let text = string(ioNode) {
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            let level = parts.count == 2 ? Int(parts[1]) : nil
            let levelValid = parts.count == 1 || (level.map { (0...7).contains($0) } ?? false)
            switch (parts.first ?? "", levelValid) {
            case ("idle", _) where parts.count == 1: nice.io = .idle
            case ("best-effort", true): nice.io = .bestEffort(level: level)
            case ("realtime", true): nice.io = .realtime(level: level)
            default: error(ioNode, "\"\(text)\" is not an IO class (idle, best-effort, best-effort:0-7, realtime, realtime:0-7)")
            }
        }
        return nice
    }

    /// `alarm: { removed_over: 30% | 500, protect: true }`.
    func readAlarm(_ node: ConfigNode) -> Configuration.Backup.Alarm? {
        guard let fields = fields(node, allowed: ["removed_over", "protect"]) else { return nil }
        guard let overNode = fields["removed_over"] else {
            error(node, "an alarm needs removed_over: a percentage of the files (30%) or a number of files (500)")
            return nil
        }
        guard let text = string(overNode) else { return nil }
        let threshold: Configuration.Backup.Alarm.Threshold
        if text.hasSuffix("%") {
            guard let value = Double(text.dropLast()), value > 0, value < 100 else {
                error(overNode, "\"\(text)\" is not a percentage above 0% and below 100%")
                return nil
            }
            threshold = .percent(value)
        } else {
            guard let value = Int(text), value >= 0 else {
                error(overNode, "\"\(text)\" is neither a percentage (30%) nor a number of files (500)")
                return nil
            }
            threshold = .count(value)
        }
        let protect = fields["protect"].flatMap(bool) ?? false
        return Configuration.Backup.Alarm(removedOver: threshold, protect: protect)
    }

    /// `drill: { schedules: [1w], sample: 200 | 10%, max_bytes: 1G, hooks: {...} }`.
    func readDrill(_ node: ConfigNode) -> Configuration.Backup.Drill? {
        guard let fields = fields(node, allowed: ["schedules", "sample", "max_bytes", "hooks"]) else { return nil }
        var drill = Configuration.Backup.Drill()
        drill.schedules = fields["schedules"].map(readSchedules) ?? []
        drill.hooks = fields["hooks"].map(readHooks) ?? Configuration.Backup.Hooks()
        if let sampleNode = fields["sample"], let text = string(sampleNode) {
            if text.hasSuffix("%") {
                if let value = Double(text.dropLast()), value > 0, value <= 100 {
                    drill.sample = .percent(value)
                } else {
                    error(sampleNode, "\"\(text)\" is not a percentage above 0% and at most 100%")
                }
            } else if let value = Int(text), value >= 1 {
                drill.sample = .count(value)
            } else {
                error(sampleNode, "\"\(text)\" is neither a number of files (200) nor a percentage of them (10%)")
            }
        }
        if let bytesNode = fields["max_bytes"], let text = string(bytesNode) {
            if let bytes = ConfigurationUnits.bytes(text), bytes > 0 {
                drill.maxBytes = bytes
            } else {
                error(bytesNode, "\"\(text)\" is not a size (500M, 2G)")
            }
        }
        return drill
    }

    func readRetention(_ node: ConfigNode) -> RetentionPolicy? {
        guard let fields = fields(node, allowed: Self.retentionKeys) else { return nil }
        func count(_ key: String) -> Int? { fields[key].flatMap { int($0, in: 1...Int.max) } }
        var policy = RetentionPolicy(
            keepLast: count("keep_last"), keepHourly: count("keep_hourly"), keepDaily: count("keep_daily"),
            keepWeekly: count("keep_weekly"), keepMonthly: count("keep_monthly"), keepYearly: count("keep_yearly"),
            keepTags: fields["keep_tags"].flatMap(stringList) ?? []
        )
        if let withinNode = fields["keep_within"], let text = string(withinNode) {
            switch ConfigurationUnits.keepWithin(text) {
            case .success(let within): policy.keepWithin = within
            case .failure(.notADuration):
                error(withinNode, "\"\(text)\" is not a duration (2h, 3d, 2w; m means minutes)")
            case .failure(.notWholeHours):
                error(withinNode, "keep_within \(text) cannot be expressed: restic counts whole hours")
            }
        }
        if policy.isEmpty, fields.entries.allSatisfy({ $0.value.isNull }) {
            error(node, "the retention policy keeps nothing; set at least one keep_* key")
            return nil
        }
        return policy
    }
}
