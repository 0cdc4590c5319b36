/// What running one phase's hooks means for the job.
public struct HookPhaseOutcome: Sendable, Hashable {
    public var phase: HookPhase
    /// One per hook of the phase, in order (skipped ones included).
    public var steps: [HookStepResult]
    /// One sentence per failed `ignore` hook: the job records them and is otherwise unaffected.
    public var warnings: [String]
    /// A `continue` hook failed: the job goes on and ends `failed`.
    public var failed: Bool
    /// A `break` hook failed: the phase stopped; the caller skips the operation and runs failure and finally.
    public var broke: Bool
    /// The job was cancelled while the phase ran; the remaining hooks were skipped.
    public var cancelled: Bool

    public init(phase: HookPhase, steps: [HookStepResult] = [], warnings: [String] = [], failed: Bool = false, broke: Bool = false, cancelled: Bool = false) {
        self.phase = phase
        self.steps = steps
        self.warnings = warnings
        self.failed = failed
        self.broke = broke
        self.cancelled = cancelled
    }

    /// The first sentence explaining why the job must fail, if it must.
    public var error: String? {
        guard failed || broke else { return nil }
        return steps.first { $0.outcome == .failed && $0.policy != .ignore && !$0.cancelled }
            .map { "Hook \($0.name) failed: \($0.error ?? "unknown error")" }
    }
}
