import Foundation

// TEMPORARY until the `config` branch (Schedule+NextDate.swift) is merged; delete then.
extension Schedule {
    func nextDate(lastRun: Date?, now: Date, timeZone: TimeZone) -> Date {
        switch self {
        case .every(let span, _):
            guard let lastRun else { return now }
            let next = min(lastRun, now).addingTimeInterval(Double(span.components.seconds))
            return next <= now ? now : next
        case .cron:
            return .distantFuture
        }
    }
}
