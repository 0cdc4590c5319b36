import Foundation

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

/// Encodes values for `--json` output: snake_case keys, ISO 8601 dates, sorted keys.
enum JSONOutput {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func print(_ value: some Encodable) throws {
        Swift.print(try line(value))
    }
}
