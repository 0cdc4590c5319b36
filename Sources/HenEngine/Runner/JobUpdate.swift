import Foundation
import HenDrivers

/// What a running job tells the engine, in order: applied to its record and turned into ``JobEvent``s.
enum JobUpdate: Sendable {
    /// A step started or ended (a step reported again with the same id replaces the earlier one).
    case step(JobStep)
    /// The driver reported something.
    case driver(DriverEvent)
    case result(RepositoryResult)
    /// A warning of the engine or a hook.
    case warning(String)
    /// A note of the engine for the job log.
    case log(DriverEvent.LogLevel, String)
}

/// How a job's work ended, before the engine knows why it may have been stopped.
struct JobOutcome: Sendable, Hashable {
    /// `succeeded`, `warning` or `failed`.
    var state: JobState
    var error: String?
    /// The work stopped because its task was cancelled (cancel, timeout or shutdown).
    var stopped: Bool
}
