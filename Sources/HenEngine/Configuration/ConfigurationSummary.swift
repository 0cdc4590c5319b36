import Foundation
import HenDrivers

/// The text of `hen-backup config check`: one screen saying what the daemon will do with this file.
/// Secrets never appear: passwords are named by where they come from, locations have credentials hidden.
public enum ConfigurationSummary {
    /// - Parameters:
    ///   - now: the moment next runs are computed from.
    ///   - lastRuns: when each backup last ran, by backup name (from the job store; empty when unknown).
    public static func render(_ configuration: Configuration, now: Date = Date(), lastRuns: [String: Date] = [:]) -> String {
        let zone = configuration.timeZone
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"

        func schedules(_ list: [Schedule], lastRun: Date?) -> String {
            guard !list.isEmpty else { return "none" }
            return list.map { schedule in
                let next = schedule.nextDate(lastRun: lastRun, now: now, timeZone: zone)
                let when = next == .distantFuture ? "never" : next <= now ? "now" : formatter.string(from: next)
                return "\(schedule) (next: \(when))"
            }.joined(separator: "; ")
        }

        var lines: [String] = []
        lines.append("Configuration \(configuration.sourcePath)")
        lines.append("  hostname:  \(configuration.hostname)")
        lines.append("  data dir:  \(configuration.dataDirectory)")
        lines.append("  mode:      \(configuration.mode.rawValue)\(configuration.mode == .recovery ? " (read-only: browse, restore and check; no backup, prune or forget, nothing scheduled)" : "")")
        lines.append("  time zone: \(zone.identifier)")
        let auth = configuration.api.auth
        let authText = auth.isRequired ? "\(auth.tokens.count) token(s), \(auth.users.count) user(s)" : "none"
        lines.append("  api:       \(configuration.api.listen) (auth: \(authText))")
        lines.append("  jobs:      at most \(configuration.maxConcurrentJobs) at a time")
        if let limits = limitsText(configuration.limits) { lines.append("  limits:    \(limits)") }

        lines.append("")
        lines.append("Backups (\(configuration.backups.count))")
        for backup in configuration.backups {
            lines.append("  \(backup.name)")
            lines.append("    paths:        \(backup.paths.joined(separator: ", "))")
            if !backup.excludes.isEmpty { lines.append("    excludes:     \(backup.excludes.joined(separator: ", "))") }
            lines.append("    repositories: \(backup.repositories.joined(separator: ", "))")
            lines.append("    schedules:    \(schedules(backup.schedules, lastRun: lastRuns[backup.name]))")
            if let watch = backup.watch {
                lines.append("    watch:        after \(DurationText.format(watch.latency)) of quiet, at most \(DurationText.format(watch.maxWait)) after the first change")
            }
            if backup.schedules.isEmpty && backup.watch == nil { lines.append("    runs:         on demand only") }
            if backup.priority != .normal { lines.append("    priority:     \(backup.priority)") }
            if let maxDuration = backup.maxDuration { lines.append("    max duration: \(DurationText.format(maxDuration))") }
            if let limits = limitsText(backup.limits) { lines.append("    limits:       \(limits)") }
            if let retention = backup.retention { lines.append("    retention:    \(retentionText(retention))") }
            if !backup.prune.schedules.isEmpty { lines.append("    prune:        \(schedules(backup.prune.schedules, lastRun: nil))") }
            let hookCounts = HookPhaseCounts(backup.hooks)
            if !hookCounts.isEmpty { lines.append("    hooks:        \(hookCounts)") }
        }

        lines.append("")
        lines.append("Repositories (\(configuration.repositories.count))")
        for repository in configuration.repositories.values.sorted(by: { $0.name < $1.name }) {
            var details = ["\(repository.driver) at \(LocationRedaction.redact(repository.location))"]
            if let backup = repository.definedInBackup { details.append("defined in backup \(backup)") }
            if let file = repository.passwordFile {
                details.append("password from \(file)")
            } else if repository.passwordCommand != nil {
                details.append("password from a command")
            } else if repository.password != nil {
                details.append("password given")
            }
            if !repository.environment.isEmpty { details.append("env \(repository.environment.keys.sorted().joined(separator: ", "))") }
            if !repository.autoInit { details.append("no auto init") }
            lines.append("  \(repository.name): \(details.joined(separator: "; "))")
            if let limits = limitsText(repository.limits) { lines.append("    limits: \(limits)") }
            if !repository.check.schedules.isEmpty {
                let subset = repository.check.readDataSubset.map { ", reading \($0) of the data" } ?? ""
                lines.append("    check:  \(schedules(repository.check.schedules, lastRun: nil))\(subset)")
            }
        }

        if !configuration.warnings.isEmpty {
            lines.append("")
            lines.append("Warnings (\(configuration.warnings.count))")
            for warning in configuration.warnings { lines.append("  \(warning)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func limitsText(_ limits: TransferLimits) -> String? {
        var parts: [String] = []
        if let upload = limits.uploadBytesPerSecond { parts.append("upload \(ConfigurationUnits.rate(upload))") }
        if let download = limits.downloadBytesPerSecond { parts.append("download \(ConfigurationUnits.rate(download))") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    static func retentionText(_ policy: RetentionPolicy) -> String {
        var parts: [String] = []
        if let value = policy.keepLast { parts.append("last \(value)") }
        if let value = policy.keepHourly { parts.append("hourly \(value)") }
        if let value = policy.keepDaily { parts.append("daily \(value)") }
        if let value = policy.keepWeekly { parts.append("weekly \(value)") }
        if let value = policy.keepMonthly { parts.append("monthly \(value)") }
        if let value = policy.keepYearly { parts.append("yearly \(value)") }
        if let within = policy.keepWithin { parts.append("within \(Configuration.keepWithinText(within)) (restic --keep-within \(within.resticNotation))") }
        if !policy.keepTags.isEmpty { parts.append("tags \(policy.keepTags.joined(separator: ", "))") }
        return "keep " + parts.joined(separator: ", ")
    }

    /// `before 1, after 2`.
    struct HookPhaseCounts: CustomStringConvertible {
        var counts: [(String, Int)]
        init(_ hooks: Configuration.Backup.Hooks) {
            counts = [("before", hooks.before.count), ("after", hooks.after.count), ("failure", hooks.failure.count), ("finally", hooks.finally.count), ("alarm", hooks.alarm.count)].filter { $0.1 > 0 }
        }
        var isEmpty: Bool { counts.isEmpty }
        var description: String { counts.map { "\($0.0) \($0.1)" }.joined(separator: ", ") }
    }
}
