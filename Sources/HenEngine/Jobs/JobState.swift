/// Where a job is in its life: `queued → running → succeeded | warning | failed | cancelled | timed_out | interrupted`.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, warning, failed, cancelled
    case timedOut = "timed_out"
    /// The daemon stopped (or crashed) while it ran.
    case interrupted

    public var isFinished: Bool { self != .queued && self != .running }
}
