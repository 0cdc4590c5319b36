/// How a job's work ended, before the engine knows why it may have been stopped.
struct JobOutcome: Sendable, Hashable {
    /// `succeeded`, `warning` or `failed`.
    var state: JobState
    var error: String?
    /// The work stopped because its task was cancelled (cancel, timeout or shutdown).
    var stopped: Bool
}
