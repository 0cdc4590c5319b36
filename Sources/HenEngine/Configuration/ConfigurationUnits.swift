import Foundation
import HenDrivers

/// Sizes and rates (`50K 5M 1.5G`, K = KiB = 1024 bytes; a plain number is bytes), and the conversion of a
/// `keep_within` span from Hen's units to restic's.
public enum ConfigurationUnits {
    /// Bytes for `512`, `50K`, `5M`, `1.5G`, `2T` (also written `5MiB`, `5MB`, `5m`: K, M, G, T are
    /// always powers of 1024). Nil when not a size.
    public static func bytes(_ text: String) -> Int? {
        var number = Substring(text.trimmingCharacters(in: .whitespaces))
        if number.hasSuffix("iB") || number.hasSuffix("ib") {
            number = number.dropLast(2)
            guard let last = number.last, "KkMmGgTt".contains(last) else { return nil }
        } else if number.hasSuffix("B") || number.hasSuffix("b") {
            number = number.dropLast()
        }
        var multiplier = 1.0
        if let last = number.last, let power = ["K": 1.0, "M": 2, "G": 3, "T": 4][last.uppercased()] {
            multiplier = pow(1024, power)
            number = number.dropLast()
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.first != ".", number.last != ".", number.filter({ $0 == "." }).count <= 1,
              let value = Double(number)
        else { return nil }
        let total = value * multiplier
        guard total < 9e18 else { return nil }
        return Int(total.rounded(.down))
    }

    /// The shortest exact notation of a byte count: `5M`, `1536K`, `1000`.
    public static func size(_ bytes: Int) -> String {
        for (letter, power) in [("T", 4.0), ("G", 3), ("M", 2), ("K", 1)] {
            let unit = Int(pow(1024, power))
            if bytes >= unit, bytes % unit == 0 { return "\(bytes / unit)\(letter)" }
        }
        return String(bytes)
    }

    /// A rate for people: `5 MiB/s (41.9 Mbit/s)`. Binary units for bytes, decimal megabits as ISPs count.
    public static func rate(_ bytesPerSecond: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytesPerSecond)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let number = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        let megabits = Double(bytesPerSecond) * 8 / 1_000_000
        return "\(number) \(units[unit])/s (\(String(format: "%.1f", megabits)) Mbit/s)"
    }

    enum KeepWithinFailure: Error, Equatable {
        case notADuration
        case notWholeHours
    }

    /// Hen's `2w`, `3d`, `12h`, `1d12h`, `120m` → restic's days and hours. Weeks become days (7 each),
    /// days and hours stay as they are; minutes and seconds must add up to whole hours.
    static func keepWithin(_ text: String) -> Result<KeepWithin, KeepWithinFailure> {
        guard DurationText.seconds(text) != nil else { return .failure(.notADuration) }
        var days = 0
        var subDaySeconds = 0
        var number = ""
        for character in text.trimmingCharacters(in: .whitespaces) {
            if character.isNumber {
                number.append(character)
                continue
            }
            let value = Int(number) ?? 0
            number = ""
            switch character {
            case "w": days += value * 7
            case "d": days += value
            case "h": subDaySeconds += value * 3600
            case "m": subDaySeconds += value * 60
            default: subDaySeconds += value
            }
        }
        guard subDaySeconds % 3600 == 0 else { return .failure(.notWholeHours) }
        return .success(KeepWithin(days: days, hours: subDaySeconds / 3600))
    }
}
