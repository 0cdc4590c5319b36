import Foundation
import HenDrivers

/// Something that happened to a job, as it happens. Subscribe with ``Engine/events(jobID:)``.
public enum JobEvent: Sendable, Hashable {
    /// The job entered a state; `record` is the record at that moment.
    case state(jobID: String, state: JobState, record: JobRecord)
    case stepStarted(jobID: String, step: JobStep)
    case stepEnded(jobID: String, step: JobStep)
    /// At most about once a second per job.
    case progress(jobID: String, progress: HenDrivers.Progress)
    case log(jobID: String, line: JobLogLine)
    case warning(jobID: String, message: String)

    public var jobID: String {
        switch self {
        case .state(let id, _, _), .stepStarted(let id, _), .stepEnded(let id, _), .progress(let id, _),
            .log(let id, _), .warning(let id, _):
            id
        }
    }
}
