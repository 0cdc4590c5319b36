import Foundation

extension Schedule {
    /// Reads a schedule as written in the configuration: a span (`5m`, `1h30m`, `1w`) meaning "every",
    /// a cron expression with 5 fields or 6 (seconds first), or a macro (`@hourly`, `@daily`, `@weekly`,
    /// `@monthly`, `@yearly`).
    public static func parse(_ text: String) throws(ScheduleError) -> Schedule {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let isSingleWord = !trimmed.isEmpty && !trimmed.contains(where: \.isWhitespace)
        if isSingleWord, !trimmed.hasPrefix("@") {
            guard let seconds = DurationText.seconds(trimmed) else {
                throw ScheduleError(.syntax, "\"\(text)\": not a duration (5s 5m 5h 5d 5w, or combined as 1h30m) nor a cron expression")
            }
            guard seconds > 0 else {
                throw ScheduleError(.zeroDuration, "\"\(text)\": a schedule of zero would run continuously")
            }
            return .every(.seconds(seconds), text: trimmed)
        }
        return .cron(try CronExpression.parse(trimmed))
    }
}
