import Foundation
import HenEngine
import HenJSON
import Synchronization

/// How numbers and times look to a person.
enum Formatting {
    static func bytes(_ count: UInt64?) -> String {
        guard let count else { return "-" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let hours = total / 3600, minutes = (total % 3600) / 60, secs = total % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).dateTimeSeparator(.space).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// A time as a person reads it, in `timeZone`: the configuration's `timezone` (the one cron schedules
    /// use), or this machine's zone for a daemon named only by `--remote`.
    static func localTime(_ date: Date?, in timeZone: TimeZone) -> String {
        guard let date else { return "-" }
        let formatter = DateFormatter()
        formatter.timeZone = timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    /// Permission bits as `rwxr-xr-x`, with the kind in front.
    static func mode(_ mode: UInt32?, directory: Bool, symlink: Bool) -> String {
        let kind = directory ? "d" : symlink ? "l" : "-"
        guard let mode else { return kind + "?????????" }
        let letters = Array("rwxrwxrwx")
        var text = kind
        for bit in 0..<9 {
            text.append(mode & (1 << (8 - bit)) != 0 ? letters[bit] : "-")
        }
        return text
    }
}

/// `--json` output, by HenJSON's convention as the API answers: snake_case keys, explicit nulls, RFC 3339
/// dates, sorted keys, one line.
enum JSONOutput {
    static func line(_ value: some Encodable) throws -> String {
        try HenJSON.encoder().string(value)
    }

    static func print(_ value: some Encodable) throws {
        Swift.print(try line(value))
    }
}

extension Formatting {
    /// A result's changes against its parent snapshot and a drill's counts, for people.
    static func recoveryParts(_ result: RepositoryResult) -> [String] {
        var parts: [String] = []
        if let added = result.filesAdded, let removed = result.filesRemoved, let modified = result.filesModified, let parent = result.parentSnapshotID {
            parts.append("against \(parent.prefix(8)): \(added) added, \(removed) removed, \(modified) modified\(result.alarm == true ? " (mass-deletion alarm)" : "")")
        }
        if let drill = result.drill {
            parts.append("drilled \(drill.sampled) files of snapshot \(drill.snapshotID.prefix(8)): \(drill.matched) matched, \(drill.differed) differed, \(drill.skipped) skipped")
        }
        return parts
    }
}
