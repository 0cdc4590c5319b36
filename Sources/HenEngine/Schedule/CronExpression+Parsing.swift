import Foundation

extension CronExpression {
    /// Macros and the expression each stands for.
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// One field's rules: its name in messages, its range, and the names it accepts (value of the first name).
    private struct Field {
        var name: String
        var range: ClosedRange<Int>
        var names: [String] = []
        var firstNameValue = 0
    }

    /// Parses 5 fields (`minute hour day-of-month month day-of-week`) or 6 (seconds first), or a macro.
    ///
    /// Each field is `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from a to the end), or a
    /// comma-separated list of those. Months take `JAN`…`DEC`, days of week `SUN`…`SAT` (any case); `7` is
    /// Sunday as `0` is. A day field starting with `*` (`*`, `*/2`) counts as unrestricted, as in cronie.
    public static func parse(_ text: String) throws(ScheduleError) -> CronExpression {
        let written = text.trimmingCharacters(in: .whitespaces)
        var expanded = written
        if written.hasPrefix("@") {
            guard let macro = macros[written.lowercased()] else {
                throw ScheduleError(.syntax, "\"\(text)\": unknown macro \(written) (known: @hourly, @daily, @weekly, @monthly, @yearly)")
            }
            expanded = macro
        }
        var parts = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 5 || parts.count == 6 else {
            throw ScheduleError(.fieldCount, "\"\(text)\": a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found \(parts.count)")
        }
        if parts.count == 5 { parts.insert("0", at: 0) }

        let fields = [
            Field(name: "second", range: 0...59),
            Field(name: "minute", range: 0...59),
            Field(name: "hour", range: 0...23),
            Field(name: "day-of-month", range: 1...31),
            Field(name: "month", range: 1...12, names: monthNames, firstNameValue: 1),
            Field(name: "day-of-week", range: 0...7, names: dayNames, firstNameValue: 0),
        ]
        var sets: [Set<Int>] = []
        for (part, field) in zip(parts, fields) {
            sets.append(try parseField(part, field, text: text))
        }
        // 7 is another name for Sunday.
        if sets[5].remove(7) != nil { sets[5].insert(0) }

        let expression = CronExpression(
            text: written, seconds: sets[0], minutes: sets[1], hours: sets[2], daysOfMonth: sets[3], months: sets[4],
            daysOfWeek: sets[5], daysOfMonthRestricted: !parts[3].hasPrefix("*"), daysOfWeekRestricted: !parts[5].hasPrefix("*")
        )
        try expression.checkReachable(text: text)
        return expression
    }

    private static func parseField(_ part: String, _ field: Field, text: String) throws(ScheduleError) -> Set<Int> {
        var values = Set<Int>()
        for item in part.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else {
                throw ScheduleError(.syntax, "\"\(text)\": the \(field.name) field \"\(part)\" has an empty list item")
            }
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else {
                throw ScheduleError(.syntax, "\"\(text)\": the \(field.name) field item \"\(item)\" has more than one step")
            }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else {
                    throw ScheduleError(.syntax, "\"\(text)\": the \(field.name) step \"\(pieces[1])\" is not a positive number")
                }
                step = value
            }
            let rangeText = pieces[0]
            let lower: Int
            var upper: Int
            if rangeText == "*" {
                lower = field.range.lowerBound
                upper = field.name == "day-of-week" ? 6 : field.range.upperBound
            } else {
                let bounds = rangeText.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard bounds.count <= 2 else {
                    throw ScheduleError(.syntax, "\"\(text)\": the \(field.name) range \"\(rangeText)\" is not of the form a-b")
                }
                lower = try value(bounds[0], field, text: text)
                if bounds.count == 2 {
                    upper = try value(bounds[1], field, text: text)
                    guard lower <= upper else {
                        throw ScheduleError(.syntax, "\"\(text)\": the \(field.name) range \(rangeText) runs backwards")
                    }
                } else {
                    // `a/n` means from a to the end of the field; a lone `a` is just a.
                    upper = pieces.count == 2 ? (field.name == "day-of-week" ? 6 : field.range.upperBound) : lower
                }
            }
            values.formUnion(stride(from: lower, through: upper, by: step))
        }
        return values
    }

    private static func value(_ token: String, _ field: Field, text: String) throws(ScheduleError) -> Int {
        if let number = Int(token), token.allSatisfy(\.isASCII) {
            guard field.range.contains(number) else {
                throw ScheduleError(.outOfRange, "\"\(text)\": \(field.name) \(number) is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
            }
            return number
        }
        if let index = field.names.firstIndex(of: token.uppercased()) {
            return index + field.firstNameValue
        }
        let hint = field.names.isEmpty ? "" : " or a name (\(field.names.first!)-\(field.names.last!))"
        throw ScheduleError(.syntax, "\"\(text)\": the \(field.name) \"\(token)\" is not a number\(hint)")
    }

    /// Refuses expressions that can never fire, such as `0 0 30 2 *` (February has no 30th).
    private func checkReachable(text: String) throws(ScheduleError) {
        guard daysOfMonthRestricted, !daysOfWeekRestricted else { return }
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let reachable = months.contains { month in daysOfMonth.contains { $0 <= longest[month - 1] } }
        if !reachable {
            throw ScheduleError(.outOfRange, "\"\(text)\": no month in the expression has any of its days of month, so it never fires")
        }
    }
}
