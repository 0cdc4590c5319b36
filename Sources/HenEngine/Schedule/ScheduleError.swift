/// A schedule or duration that cannot be understood. The message is one sentence quoting the text.
public struct ScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Not a duration, a cron expression or a macro.
        case syntax = "schedule_syntax"
        /// A cron field has a value outside its range.
        case outOfRange = "schedule_out_of_range"
        /// A cron expression with other than 5 or 6 fields.
        case fieldCount = "schedule_field_count"
        /// A duration of zero, where a job would run continuously.
        case zeroDuration = "schedule_zero_duration"
    }

    public var code: Code
    /// `"0 61 * * *": minute 61 is out of range 0-59`.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
