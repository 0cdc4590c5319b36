import Foundation
import HenDrivers

/// Everything known about one job: the durable record kept in the job store and shown by the CLI, API and UI.
///
/// JSON (``HenJSON``'s convention): snake_case keys (`queued_at`), every key present (absent values null),
/// dates as RFC 3339.
public struct JobRecord: Sendable, Hashable, Codable, Identifiable {
    /// Sortable by time of creation (`20261128-041330-123-a1b2`).
    public var id: String
    /// The full operation, for running and re-queueing it.
    public var request: JobOperation
    public var trigger: JobTrigger
    public var priority: JobPriority
    public var state: JobState
    /// The repositories it touches.
    public var repositories: [String]
    public var queuedAt: Date
    public var startedAt: Date?
    public var endedAt: Date?
    public var steps: [JobStep]
    /// Where the running step stands (the latest report).
    public var progress: HenDrivers.Progress?
    /// When the driver last reported anything (progress, a log line, a warning).
    public var lastReportAt: Date?
    public var warnings: [String]
    /// Why it failed, in one sentence naming the repository.
    public var error: String?
    public var results: [RepositoryResult]
    /// The last ``JobRecord/maximumLogLines`` lines.
    public var log: [JobLogLine]

    public static let maximumLogLines = 500
    public static let maximumWarnings = 200

    /// `backup`, `prune`, `check`, `restore`, `forget`, `init`, `unlock`.
    public var operation: String { request.name }
    /// The backup or repository it works on.
    public var target: String { request.target }

    public init(id: String, request: JobOperation, trigger: JobTrigger, priority: JobPriority, state: JobState = .queued, repositories: [String], queuedAt: Date, startedAt: Date? = nil, endedAt: Date? = nil, steps: [JobStep] = [], progress: HenDrivers.Progress? = nil, lastReportAt: Date? = nil, warnings: [String] = [], error: String? = nil, results: [RepositoryResult] = [], log: [JobLogLine] = []) {
        self.id = id
        self.request = request
        self.trigger = trigger
        self.priority = priority
        self.state = state
        self.repositories = repositories
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.steps = steps
        self.progress = progress
        self.lastReportAt = lastReportAt
        self.warnings = warnings
        self.error = error
        self.results = results
        self.log = log
    }

    /// The record as lists and overviews show it (the API's `JobSummary` schema): its log left empty,
    /// `GET /jobs/{id}` has it. ``JobStore/summaries(_:)`` reads it without reading the log.
    public var summary: JobRecord {
        var record = self
        record.log = []
        return record
    }

    /// Appends a log line, keeping only the newest ``maximumLogLines``.
    public mutating func appendLog(_ line: JobLogLine) {
        log.append(line)
        if log.count > Self.maximumLogLines { log.removeFirst(log.count - Self.maximumLogLines) }
    }

    /// Adds a warning once (drivers repeat themselves), keeping at most ``maximumWarnings``.
    public mutating func appendWarning(_ warning: String) {
        guard !warnings.contains(warning), warnings.count < Self.maximumWarnings else { return }
        warnings.append(warning)
    }

    /// Records a step, replacing an earlier one with the same id.
    public mutating func record(_ step: JobStep) {
        if let index = steps.firstIndex(where: { $0.id == step.id }) {
            steps[index] = step
        } else {
            steps.append(step)
        }
    }

    // Written by hand because a record shows more than it stores: `operation` and `target` (from the
    // request) for scripts and filters, and its priority as text (`next`, `on-idle`, `5`); and reads old
    // records that lack the keys added since.
    private enum CodingKeys: String, CodingKey {
        case id, operation, target, request, trigger, priority, state, repositories, steps, progress, warnings, error, results, log
        case queuedAt, startedAt, endedAt, lastReportAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        request = try container.decode(JobOperation.self, forKey: .request)
        trigger = try container.decode(JobTrigger.self, forKey: .trigger)
        let priorityText = try container.decode(String.self, forKey: .priority)
        guard let priority = JobPriority(recordText: priorityText) else {
            throw DecodingError.dataCorruptedError(forKey: .priority, in: container, debugDescription: "unknown priority \(priorityText)")
        }
        self.priority = priority
        state = try container.decode(JobState.self, forKey: .state)
        repositories = try container.decodeIfPresent([String].self, forKey: .repositories) ?? []
        queuedAt = try container.decode(Date.self, forKey: .queuedAt)
        startedAt = try container.decodeIfPresent(Date.self, forKey: .startedAt)
        endedAt = try container.decodeIfPresent(Date.self, forKey: .endedAt)
        steps = try container.decodeIfPresent([JobStep].self, forKey: .steps) ?? []
        progress = try container.decodeIfPresent(HenDrivers.Progress.self, forKey: .progress)
        lastReportAt = try container.decodeIfPresent(Date.self, forKey: .lastReportAt)
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
        error = try container.decodeIfPresent(String.self, forKey: .error)
        results = try container.decodeIfPresent([RepositoryResult].self, forKey: .results) ?? []
        log = try container.decodeIfPresent([JobLogLine].self, forKey: .log) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(operation, forKey: .operation)
        try container.encode(target, forKey: .target)
        try container.encode(request, forKey: .request)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(priority.description, forKey: .priority)
        try container.encode(state, forKey: .state)
        try container.encode(repositories, forKey: .repositories)
        try container.encode(queuedAt, forKey: .queuedAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(steps, forKey: .steps)
        try container.encode(progress, forKey: .progress)
        try container.encode(lastReportAt, forKey: .lastReportAt)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(error, forKey: .error)
        try container.encode(results, forKey: .results)
        try container.encode(log, forKey: .log)
    }
}

extension JobPriority {
    /// Parses the text ``JobPriority/description`` writes (`immediate`, `next`, `superior`, `normal`,
    /// `inferior`, `on-idle`, or an integer).
    public init?(recordText text: String) {
        switch text {
        case "immediate": self = .immediate
        case "next": self = .next
        case "on-idle": self = .onIdle
        case "superior": self = .superior
        case "normal": self = .normal
        case "inferior": self = .inferior
        default:
            guard let value = Int(text) else { return nil }
            self = .level(value)
        }
    }
}
