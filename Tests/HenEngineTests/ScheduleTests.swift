import Foundation
import Testing
@testable import HenEngine

@Suite struct ScheduleTests {
    /// `2025-03-30T01:00:00Z` → Date.
    private func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let value = formatter.date(from: text) { return value }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }

    private func cron(_ text: String) throws -> CronExpression {
        guard case .cron(let expression) = try Schedule.parse(text) else {
            Issue.record("\(text) did not parse as cron")
            throw ScheduleError(.syntax, "not cron")
        }
        return expression
    }

    private let utc = TimeZone(identifier: "UTC")!
    private let paris = TimeZone(identifier: "Europe/Paris")!
    private let newYork = TimeZone(identifier: "America/New_York")!

    // MARK: - Units

    @Test(arguments: [("5s", 5), ("5m", 300), ("5h", 18_000), ("5d", 432_000), ("5w", 3_024_000), ("1h30m", 5_400), ("1d12h", 129_600), ("90s", 90)])
    func everyUnits(text: String, seconds: Int) throws {
        #expect(try Schedule.parse(text) == .every(.seconds(seconds), text: text))
    }

    @Test func unitsAreMinutesNotMonths() throws {
        #expect(DurationText.parse("1m") == .seconds(60))
        #expect(DurationText.format(.seconds(5_400)) == "1h30m")
        #expect(DurationText.format(.seconds(1_209_600)) == "2w")
        #expect(DurationText.format(.zero) == "0s")
        #expect(DurationText.format(.seconds(90 * 86_400)) == "90d")
        #expect(DurationText.format(.seconds(86_400 + 61)) == "1d1m1s")
    }

    @Test(arguments: ["5x", "5", "m", "30m1h", "1h1h", "-5m", "1.5h"])
    func badDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
        #expect(throws: ScheduleError.self) { try Schedule.parse(text) }
    }

    @Test func zeroSpanIsRefused() {
        #expect(throws: ScheduleError(.zeroDuration, "\"0s\": a schedule of zero would run continuously")) { try Schedule.parse("0s") }
    }

    // MARK: - Cron fields

    @Test func fiveFieldsGetSecondZero() throws {
        let expression = try cron("*/15 2 1-5 * *")
        #expect(expression.seconds == [0])
        #expect(expression.minutes == [0, 15, 30, 45])
        #expect(expression.hours == [2])
        #expect(expression.daysOfMonth == [1, 2, 3, 4, 5])
        #expect(expression.months == Set(1...12))
        #expect(expression.daysOfWeek == Set(0...6))
        #expect(expression.daysOfMonthRestricted)
        #expect(!expression.daysOfWeekRestricted)
        #expect(expression.text == "*/15 2 1-5 * *")
    }

    @Test func sixFieldsHaveSecondsFirst() throws {
        let expression = try cron("10,40 0 12 * * *")
        #expect(expression.seconds == [10, 40])
        #expect(expression.minutes == [0])
        #expect(expression.hours == [12])
    }

    @Test func listsRangesAndSteps() throws {
        let expression = try cron("0 1-5/2,20,50/5 */6 1,15 * *")
        #expect(expression.minutes == [1, 3, 5, 20, 50, 55])
        #expect(expression.hours == [0, 6, 12, 18])
        #expect(expression.daysOfMonth == [1, 15])
    }

    @Test func monthAndDayNamesInAnyCase() throws {
        let expression = try cron("0 0 * jan-Mar,DEC mon-FRI")
        #expect(expression.months == [1, 2, 3, 12])
        #expect(expression.daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try cron("0 0 * * SUN").daysOfWeek == [0])
        #expect(try cron("0 0 * * sat,sun").daysOfWeek == [0, 6])
    }

    @Test func sevenIsSunday() throws {
        #expect(try cron("0 0 * * 7").daysOfWeek == [0])
        #expect(try cron("0 0 * * 5-7").daysOfWeek == [0, 5, 6])
    }

    @Test func macros() throws {
        #expect(try cron("@hourly").minutes == [0])
        #expect(try cron("@hourly").hours == Set(0...23))
        #expect(try cron("@daily").hours == [0])
        #expect(try cron("@weekly").daysOfWeek == [0])
        #expect(try cron("@weekly").daysOfWeekRestricted)
        #expect(try cron("@monthly").daysOfMonth == [1])
        let yearly = try cron("@YEARLY")
        #expect(yearly.months == [1] && yearly.daysOfMonth == [1] && yearly.hours == [0])
        #expect(yearly.text == "@YEARLY")
    }

    @Test(arguments: [
        ("61 0 * * *", "\"61 0 * * *\": minute 61 is out of range 0-59"),
        // The second of five fields is the hour.
        ("0 61 * * *", "\"0 61 * * *\": hour 61 is out of range 0-23"),
        ("60 0 0 * * *", "\"60 0 0 * * *\": second 60 is out of range 0-59"),
        ("0 24 * * *", "\"0 24 * * *\": hour 24 is out of range 0-23"),
        ("0 0 0 * *", "\"0 0 0 * *\": day-of-month 0 is out of range 1-31"),
        ("0 0 * 13 *", "\"0 0 * 13 *\": month 13 is out of range 1-12"),
        ("0 0 * * 8", "\"0 0 * * 8\": day-of-week 8 is out of range 0-7"),
        ("0 0 * * *  *  *", "\"0 0 * * *  *  *\": a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found 7"),
        ("0 0 *", "\"0 0 *\": a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found 3"),
        ("0 0 * FOO *", "\"0 0 * FOO *\": the month \"FOO\" is not a number or a name (JAN-DEC)"),
        ("0 0 * * MONDAY", "\"0 0 * * MONDAY\": the day-of-week \"MONDAY\" is not a number or a name (SUN-SAT)"),
        ("x 0 * * *", "\"x 0 * * *\": the minute \"x\" is not a number"),
        ("*/0 * * * *", "\"*/0 * * * *\": the minute step \"0\" is not a positive number"),
        ("0 5-2 * * *", "\"0 5-2 * * *\": the hour range 5-2 runs backwards"),
        ("0 1,,2 * * *", "\"0 1,,2 * * *\": the hour field \"1,,2\" has an empty list item"),
        ("@fortnightly", "\"@fortnightly\": unknown macro @fortnightly (known: @hourly, @daily, @weekly, @monthly, @yearly)"),
        ("0 0 30 2 *", "\"0 0 30 2 *\": no month in the expression has any of its days of month, so it never fires"),
        ("5x", "\"5x\": not a duration (5s 5m 5h 5d 5w, or combined as 1h30m) nor a cron expression"),
    ])
    func errorsAreOneClearSentence(text: String, message: String) {
        do {
            _ = try Schedule.parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.message == message)
        }
    }

    // MARK: - Next dates

    @Test func nextMinuteAndSecond() throws {
        let expression = try cron("*/15 * * * *")
        #expect(expression.nextDate(after: date("2025-06-01T10:07:30Z"), in: utc) == date("2025-06-01T10:15:00Z"))
        // Strictly after: a matching time gives the following one.
        #expect(expression.nextDate(after: date("2025-06-01T10:15:00Z"), in: utc) == date("2025-06-01T10:30:00Z"))
        #expect(expression.nextDate(after: date("2025-06-01T23:59:59Z"), in: utc) == date("2025-06-02T00:00:00Z"))
    }

    @Test func secondsField() throws {
        let expression = try cron("*/20 * * * * *")
        #expect(expression.nextDate(after: date("2025-06-01T12:00:05Z"), in: utc) == date("2025-06-01T12:00:20Z"))
        #expect(expression.nextDate(after: date("2025-06-01T12:00:19.500Z"), in: utc) == date("2025-06-01T12:00:20Z"))
        #expect(expression.nextDate(after: date("2025-06-01T12:00:40Z"), in: utc) == date("2025-06-01T12:01:00Z"))
        let precise = try cron("30 0 12 * * *")
        #expect(precise.nextDate(after: date("2025-06-01T12:00:30Z"), in: utc) == date("2025-06-02T12:00:30Z"))
    }

    @Test func yearRollover() throws {
        #expect(try cron("@yearly").nextDate(after: date("2025-06-01T00:00:00Z"), in: utc) == date("2026-01-01T00:00:00Z"))
        #expect(try cron("0 9 * DEC *").nextDate(after: date("2025-12-31T09:00:00Z"), in: utc) == date("2026-12-01T09:00:00Z"))
    }

    @Test func theThirtyFirstSkipsShortMonths() throws {
        let expression = try cron("0 0 31 * *")
        #expect(expression.nextDate(after: date("2025-01-31T00:00:00Z"), in: utc) == date("2025-03-31T00:00:00Z"))
        #expect(expression.nextDate(after: date("2025-03-31T00:00:00Z"), in: utc) == date("2025-05-31T00:00:00Z"))
        #expect(expression.nextDate(after: date("2025-07-31T00:00:00Z"), in: utc) == date("2025-08-31T00:00:00Z"))
    }

    @Test func februaryTwentyNinthOnlyInLeapYears() throws {
        let expression = try cron("0 0 29 2 *")
        #expect(expression.nextDate(after: date("2025-01-01T00:00:00Z"), in: utc) == date("2028-02-29T00:00:00Z"))
        #expect(expression.nextDate(after: date("2028-02-29T00:00:00Z"), in: utc) == date("2032-02-29T00:00:00Z"))
        // 2100 is not a leap year.
        #expect(expression.nextDate(after: date("2096-03-01T00:00:00Z"), in: utc) == date("2104-02-29T00:00:00Z"))
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothRestricted() throws {
        // The 13th, or any Friday. July 2025: Fridays 4, 11, 18; the 13th is a Sunday.
        let expression = try cron("0 0 13 * FRI")
        var cursor = date("2025-07-01T00:00:00Z")
        var fired: [Date] = []
        for _ in 0..<4 {
            cursor = try #require(expression.nextDate(after: cursor, in: utc))
            fired.append(cursor)
        }
        #expect(fired == ["2025-07-04", "2025-07-11", "2025-07-13", "2025-07-18"].map { date($0 + "T00:00:00Z") })
    }

    @Test func onlyDayOfWeekCountsWhenDayOfMonthIsStar() throws {
        let expression = try cron("0 0 * * MON")
        #expect(expression.nextDate(after: date("2025-07-01T00:00:00Z"), in: utc) == date("2025-07-07T00:00:00Z"))
        // A day field starting with `*` is unrestricted (cronie): `*/10` and Monday must both hold.
        let stepped = try cron("0 0 */10 * MON")
        #expect(!stepped.daysOfMonthRestricted)
        // Days 1, 11, 21, 31 that are Mondays: 2025-07-21 is the first after July 1st (a Tuesday).
        #expect(stepped.nextDate(after: date("2025-07-01T00:00:00Z"), in: utc) == date("2025-07-21T00:00:00Z"))
    }

    @Test func localTimeZone() throws {
        // 02:30 in Paris in summer is 00:30 UTC.
        #expect(try cron("30 2 * * *").nextDate(after: date("2025-06-01T12:00:00Z"), in: paris) == date("2025-06-02T00:30:00Z"))
    }

    // MARK: - DST

    @Test func parisSpringForwardFiresAtTheEndOfTheGap() throws {
        // 2025-03-30: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist.
        let expression = try cron("30 2 * * *")
        let first = try #require(expression.nextDate(after: date("2025-03-29T12:00:00Z"), in: paris))
        #expect(first == date("2025-03-30T01:00:00Z"))
        #expect(expression.nextDate(after: first, in: paris) == date("2025-03-31T00:30:00Z"))
    }

    @Test func parisSpringForwardSkippedTimesFireOnce() throws {
        let expression = try cron("*/15 * * * *")
        let gapEnd = try #require(expression.nextDate(after: date("2025-03-30T00:50:00Z"), in: paris))
        #expect(gapEnd == date("2025-03-30T01:00:00Z"))
        #expect(expression.nextDate(after: gapEnd, in: paris) == date("2025-03-30T01:15:00Z"))
    }

    @Test func parisFallBackFiresOnce() throws {
        // 2025-10-26: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
        let expression = try cron("30 2 * * *")
        let first = try #require(expression.nextDate(after: date("2025-10-25T12:00:00Z"), in: paris))
        #expect(first == date("2025-10-26T00:30:00Z"))
        #expect(expression.nextDate(after: first, in: paris) == date("2025-10-27T01:30:00Z"))
        // Asked during the repeated hour, after the first 02:30: it does not fire again.
        #expect(expression.nextDate(after: date("2025-10-26T01:10:00Z"), in: paris) == date("2025-10-27T01:30:00Z"))
    }

    @Test func newYorkSpringForward() throws {
        // 2025-03-09: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        let expression = try cron("30 2 * * *")
        let first = try #require(expression.nextDate(after: date("2025-03-08T12:00:00Z"), in: newYork))
        #expect(first == date("2025-03-09T07:00:00Z"))
        #expect(expression.nextDate(after: first, in: newYork) == date("2025-03-10T06:30:00Z"))
    }

    @Test func newYorkFallBack() throws {
        // 2025-11-02: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:30 happens twice.
        let expression = try cron("30 1 * * *")
        let first = try #require(expression.nextDate(after: date("2025-11-01T12:00:00Z"), in: newYork))
        #expect(first == date("2025-11-02T05:30:00Z"))
        #expect(expression.nextDate(after: first, in: newYork) == date("2025-11-03T06:30:00Z"))
        // Hourly: each wall-clock hour fires once, so the repeated 01:00 is not run a second time.
        let hourly = try cron("0 * * * *")
        #expect(hourly.nextDate(after: date("2025-11-02T05:30:00Z"), in: newYork) == date("2025-11-02T07:00:00Z"))
    }

    @Test func farSearchIsFast() throws {
        // A leap day far away (2100 is not a leap year): the search still takes well under a millisecond.
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for _ in 0..<50 {
                _ = try cron("59 23 29 2 *").nextDate(after: date("2097-03-01T00:00:00Z"), in: paris)
            }
        }
        #expect(elapsed < .seconds(30))  // a runaway search would take minutes; the speed itself is benchmarked
        #expect(try cron("59 23 29 2 *").nextDate(after: date("2097-03-01T00:00:00Z"), in: utc) == date("2104-02-29T23:59:00Z"))
    }

    // MARK: - Schedule.nextDate

    @Test func everyRunsNowWhenNeverRunOrOverdue() throws {
        let schedule = try Schedule.parse("1h")
        let now = date("2025-06-01T12:00:00Z")
        #expect(schedule.nextDate(lastRun: nil, now: now, timeZone: utc) == now)
        #expect(schedule.nextDate(lastRun: date("2025-06-01T11:30:00Z"), now: now, timeZone: utc) == date("2025-06-01T12:30:00Z"))
        // Down for a week: one run now, not a burst.
        #expect(schedule.nextDate(lastRun: date("2025-05-25T12:00:00Z"), now: now, timeZone: utc) == now)
        // The clock went back: counted from now.
        #expect(schedule.nextDate(lastRun: date("2025-06-02T12:00:00Z"), now: now, timeZone: utc) == date("2025-06-01T13:00:00Z"))
    }

    @Test func cronCatchesUpOnce() throws {
        let schedule = try Schedule.parse("0 2 * * *")
        let now = date("2025-06-01T12:00:00Z")
        // Never run: waits for the expression.
        #expect(schedule.nextDate(lastRun: nil, now: now, timeZone: utc) == date("2025-06-02T02:00:00Z"))
        // Ran at today's 02:00: tomorrow's.
        #expect(schedule.nextDate(lastRun: date("2025-06-01T02:00:00Z"), now: now, timeZone: utc) == date("2025-06-02T02:00:00Z"))
        // Down over three 02:00s: once now.
        #expect(schedule.nextDate(lastRun: date("2025-05-29T02:00:00Z"), now: now, timeZone: utc) == now)
        // After that catch-up run (lastRun = now), back on the expression.
        #expect(schedule.nextDate(lastRun: now, now: now, timeZone: utc) == date("2025-06-02T02:00:00Z"))
    }

    @Test func descriptions() throws {
        #expect(try Schedule.parse("1h30m").description == "every 1h30m")
        #expect(try Schedule.parse("0 30 2 * * *").description == "cron \"0 30 2 * * *\"")
    }
}
