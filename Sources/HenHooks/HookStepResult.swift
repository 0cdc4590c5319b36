import Foundation

/// One hook run: a step of its job.
public struct HookStepResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case succeeded, failed, skipped
    }

    /// E.g. `before[0] http POST http://host/path` (no credentials, no query) or `after[1] command /usr/bin/notify done`.
    public var name: String
    public var index: Int
    public var phase: HookPhase
    public var policy: HookFailurePolicy
    public var start: Date
    public var end: Date
    public var outcome: Outcome
    /// Command hooks: the exit code, when the command exited.
    public var exitCode: Int32?
    /// Command hooks: the signal that ended the command, if one did.
    public var signal: Int32?
    /// HTTP hooks: the status of the last attempt that got an answer.
    public var httpStatus: Int?
    /// Stdout and stderr lines (commands) or the response body (HTTP), bounded and with secrets redacted.
    public var output: String
    public var outputTruncated: Bool
    /// One sentence saying why the hook failed or was skipped; nil when it succeeded.
    public var error: String?
    /// HTTP requests made (1 + retries used); 1 for a command that ran, 0 when skipped.
    public var attempts: Int
    public var timedOut: Bool
    /// The hook was stopped because its job was cancelled (no policy applies then).
    public var cancelled: Bool

    public init(name: String, index: Int, phase: HookPhase, policy: HookFailurePolicy, start: Date, end: Date, outcome: Outcome, exitCode: Int32? = nil, signal: Int32? = nil, httpStatus: Int? = nil, output: String = "", outputTruncated: Bool = false, error: String? = nil, attempts: Int, timedOut: Bool = false, cancelled: Bool = false) {
        self.name = name
        self.index = index
        self.phase = phase
        self.policy = policy
        self.start = start
        self.end = end
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.httpStatus = httpStatus
        self.output = output
        self.outputTruncated = outputTruncated
        self.error = error
        self.attempts = attempts
        self.timedOut = timedOut
        self.cancelled = cancelled
    }

    public var duration: TimeInterval { end.timeIntervalSince(start) }
}
