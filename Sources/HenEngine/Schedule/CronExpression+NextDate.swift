import Foundation
import HenDrivers

extension CronExpression {
    /// The first time strictly after `date` at which the expression fires, in `timeZone`; nil if none
    /// within 28 years (an expression such as `0 0 29 2 1` with both day fields restricted always has one).
    ///
    /// The search walks the calendar field by field (months, then days, then hours, minutes, seconds),
    /// so it costs at most a few thousand steps, never one per second.
    ///
    /// Daylight saving time, as cronie does it:
    /// - A local time skipped by a spring-forward gap (02:30 on the night clocks go from 02:00 to 03:00)
    ///   fires at the first instant after the gap (03:00 new time). Several skipped times fire once.
    /// - A local time repeated by a fall-back (02:30 twice) fires once, at its first occurrence.
    ///
    /// Days: a 31st fires only in months that have one; February 29th only in leap years. When both
    /// day-of-month and day-of-week are restricted, a day matching either fires (cron's OR rule);
    /// when one of them starts with `*`, only the other counts.
    public func nextDate(after date: Date, in timeZone: TimeZone) -> Date? {
        let afterSeconds = Int(date.timeIntervalSince1970.rounded(.down))
        let startLocal = afterSeconds + timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(afterSeconds)))
        let startDay = CivilTime.floorDivide(startLocal, 86_400)
        let startSecondOfDay = startLocal - startDay * 86_400

        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        let sortedSeconds = seconds.sorted()
        guard !sortedHours.isEmpty, !sortedMinutes.isEmpty, !sortedSeconds.isEmpty else { return nil }

        var day = startDay
        let lastDay = startDay + 28 * 366
        while day <= lastDay {
            let civil = CivilTime.civilFromDays(day)
            guard months.contains(civil.month) else {
                // Jump to the first day of the next month.
                day += CivilTime.daysInMonth(year: civil.year, month: civil.month) - civil.day + 1
                continue
            }
            if matchesDay(civil: civil, days: day) {
                // Seconds of this day not before the start; on the start day, the start second itself is
                // included because `date` may carry a fraction (the instant check below settles it).
                let floor = day == startDay ? startSecondOfDay : 0
                for hour in sortedHours where (hour + 1) * 3600 > floor {
                    for minute in sortedMinutes where hour * 3600 + (minute + 1) * 60 > floor {
                        for second in sortedSeconds {
                            let secondOfDay = hour * 3600 + minute * 60 + second
                            guard secondOfDay >= floor else { continue }
                            if let instant = Self.instant(local: day * 86_400 + secondOfDay, in: timeZone), instant > date {
                                return instant
                            }
                        }
                    }
                }
            }
            day += 1
        }
        return nil
    }

    private func matchesDay(civil: (year: Int, month: Int, day: Int), days: Int) -> Bool {
        let domMatches = daysOfMonth.contains(civil.day)
        let dowMatches = daysOfWeek.contains(CivilTime.weekday(days: days))
        if daysOfMonthRestricted && daysOfWeekRestricted { return domMatches || dowMatches }
        return domMatches && dowMatches
    }

    /// The instant a local wall-clock time stands for: its first occurrence when a fall-back repeats it,
    /// the end of the gap when a spring-forward skips it.
    static func instant(local: Int, in timeZone: TimeZone) -> Date? {
        func offset(_ utc: Int) -> Int { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc))) }
        // Real zones change offset at most once within two days.
        let offsets = Set([offset(local - 86_400), offset(local + 86_400)])
        let valid = offsets.map { local - $0 }.filter { $0 + offset($0) == local }
        if let first = valid.min() { return Date(timeIntervalSince1970: Double(first)) }
        guard let low = offsets.min(), let high = offsets.max(), low != high else { return nil }
        // In a gap: the first instant whose local time is past `local` is the transition itself.
        var lower = local - high - 1
        var upper = local - low
        while upper - lower > 1 {
            let middle = lower + (upper - lower) / 2
            if middle + offset(middle) > local { upper = middle } else { lower = middle }
        }
        return Date(timeIntervalSince1970: Double(upper))
    }
}
