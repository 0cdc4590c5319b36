import Foundation

extension Schedule {
    /// When the job should next run, given when it last ran (nil: never, as far as the job store knows).
    ///
    /// - `every` span: `lastRun + span`. A job that never ran, or whose time passed while the daemon was
    ///   down, runs `now`, once: a daemon that was down a week runs a 1h backup once, never seven times a day's
    ///   worth. A `lastRun` in the future (the clock was set back) counts from `now`, so a job is never
    ///   delayed by more than its span.
    /// - `cron`: the expression's first time after `lastRun`. If that time has already passed (the daemon
    ///   was down when it came), the job runs `now`, once, and then follows the expression again. A job that
    ///   never ran waits for the expression's next time after `now`: a cron schedule says *when*.
    /// - An expression that never fires again gives `Date.distantFuture`.
    public func nextDate(lastRun: Date?, now: Date, timeZone: TimeZone) -> Date {
        switch self {
        case .every(let span, _):
            guard let lastRun else { return now }
            let base = min(lastRun, now)
            let next = base.addingTimeInterval(Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18)
            return next <= now ? now : next
        case .cron(let expression):
            guard let lastRun, lastRun <= now else {
                return expression.nextDate(after: now, in: timeZone) ?? .distantFuture
            }
            guard let next = expression.nextDate(after: lastRun, in: timeZone) else { return .distantFuture }
            return next <= now ? now : next
        }
    }
}
