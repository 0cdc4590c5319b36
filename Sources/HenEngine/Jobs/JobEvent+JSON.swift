import Foundation
import HenDrivers

/// The wire form of an event (the API's server-sent events, which the remote CLI reads back):
/// `{"type": "state" | "step_started" | "step_ended" | "progress" | "log" | "warning", "job_id": …, …}` with
/// `job` (the record, for `state`), `step`, `progress`, `line` or `message`. Keys and dates as in ``JobRecord``.
/// Written by hand because an enum's synthesized form (`{"log": {"jobID": …}}`) has no `type` field.
extension JobEvent: Codable {
    /// The SSE `event:` name, the same as `type`.
    public var typeName: String {
        switch self {
        case .state: "state"
        case .stepStarted: "step_started"
        case .stepEnded: "step_ended"
        case .progress: "progress"
        case .log: "log"
        case .warning: "warning"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type, state, job, step, progress, line, message, jobID
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(typeName, forKey: .type)
        try container.encode(jobID, forKey: .jobID)
        switch self {
        case .state(_, let state, let record):
            try container.encode(state, forKey: .state)
            try container.encode(record, forKey: .job)
        case .stepStarted(_, let step), .stepEnded(_, let step):
            try container.encode(step, forKey: .step)
        case .progress(_, let progress):
            try container.encode(progress, forKey: .progress)
        case .log(_, let line):
            try container.encode(line, forKey: .line)
        case .warning(_, let message):
            try container.encode(message, forKey: .message)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id = try container.decode(String.self, forKey: .jobID)
        switch try container.decode(String.self, forKey: .type) {
        case "state":
            self = .state(jobID: id, state: try container.decode(JobState.self, forKey: .state), record: try container.decode(JobRecord.self, forKey: .job))
        case "step_started": self = .stepStarted(jobID: id, step: try container.decode(JobStep.self, forKey: .step))
        case "step_ended": self = .stepEnded(jobID: id, step: try container.decode(JobStep.self, forKey: .step))
        case "progress": self = .progress(jobID: id, progress: try container.decode(HenDrivers.Progress.self, forKey: .progress))
        case "log": self = .log(jobID: id, line: try container.decode(JobLogLine.self, forKey: .line))
        case "warning": self = .warning(jobID: id, message: try container.decode(String.self, forKey: .message))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "Unknown event type \(other).")
        }
    }
}
