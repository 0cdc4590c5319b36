import Foundation

/// Hen's duration notation: a number and a unit, `5s 5m 5h 5d 5w`, or several combined (`1h30m`).
/// `m` is minutes (restic's `m`, months, never appears in Hen's configuration).
public enum DurationText {
    /// Seconds per unit letter.
    static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// Parses `90s`, `5m`, `1h30m`, `2w`. Returns nil for anything else (a bare number has no unit and is refused).
    public static func parse(_ text: String) -> Duration? {
        seconds(text).map { Duration.seconds($0) }
    }

    /// The total in seconds, or nil when the text is not a duration.
    static func seconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        var total: Int64 = 0
        var number = ""
        var lastUnitRank = Int.max
        // Units must come largest first (`1h30m`, not `30m1h`) and each at most once.
        let rank: [Character: Int] = ["w": 5, "d": 4, "h": 3, "m": 2, "s": 1]
        for character in trimmed {
            if character.isASCII, character.isNumber {
                number.append(character)
            } else if let perUnit = units[character], let unitRank = rank[character] {
                guard let value = Int64(number), unitRank < lastUnitRank else { return nil }
                let (product, overflow) = value.multipliedReportingOverflow(by: perUnit)
                guard !overflow else { return nil }
                let (sum, overflow2) = total.addingReportingOverflow(product)
                guard !overflow2 else { return nil }
                total = sum
                number = ""
                lastUnitRank = unitRank
            } else {
                return nil
            }
        }
        guard number.isEmpty, lastUnitRank != Int.max else { return nil }
        return total
    }

    /// A duration in whole seconds in Hen's notation: `1h30m`, `2w`, `90d`, `0s`; under a second, in
    /// seconds with a fraction (`0.25s`: tests and grace periods use such). The one formatter of Hen's
    /// notation: configuration rendering, summaries and the engine's messages all use it.
    public static func format(_ duration: Duration) -> String {
        var remaining = duration.components.seconds
        if remaining == 0 {
            let attoseconds = duration.components.attoseconds
            return attoseconds == 0 ? "0s" : "\(Double(attoseconds) / 1e18)s"
        }
        var text = remaining < 0 ? "-" : ""
        remaining = Swift.abs(remaining)
        // Weeks only when they are the whole story (90d, not 12w6d).
        let units: [(String, Int64)] = remaining % 604_800 == 0 ? [("w", 604_800)] : [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        for (letter, size) in units where remaining >= size {
            text += "\(remaining / size)\(letter)"
            remaining %= size
        }
        return text
    }
}
