import Foundation
import HenHooks

/// Runs a phase's hooks for a job. The seam between the engine and HenHooks: the daemon passes a runner
/// built on HenHooks; without one, jobs run without hooks.
public protocol HookExecuting: Sendable {
    /// Runs `hooks` in order, reporting each as a ``JobStep`` through `onStep` (started, then ended), and
    /// says what the phase means for the job.
    func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome
}

/// What a hook may know about its job (sent to HTTP hooks, set in the environment of commands).
public struct HookRunContext: Sendable, Hashable, Codable {
    public var jobID: String
    public var operation: String
    public var backup: String?
    public var repositories: [String]
    public var trigger: JobTrigger
    /// The job's state so far: `running` before and after the operation, the final state in `finally`.
    public var state: JobState
    public var error: String?
    /// Snapshots the job wrote so far, by repository.
    public var snapshotIDs: [String: String]
    public var hostname: String

    public init(jobID: String, operation: String, backup: String?, repositories: [String], trigger: JobTrigger, state: JobState, error: String? = nil, snapshotIDs: [String: String] = [:], hostname: String) {
        self.jobID = jobID
        self.operation = operation
        self.backup = backup
        self.repositories = repositories
        self.trigger = trigger
        self.state = state
        self.error = error
        self.snapshotIDs = snapshotIDs
        self.hostname = hostname
    }

    private enum CodingKeys: String, CodingKey {
        case operation, backup, repositories, trigger, state, error, hostname
        case jobID = "job_id"
        case snapshotIDs = "snapshot_ids"
    }
}

/// What a phase's hooks mean for the job.
public struct HookPhaseOutcome: Sendable, Hashable {
    /// A hook with `on_failure: continue` or `break` failed: the job ends `failed`.
    public var failed: Bool
    /// A hook with `on_failure: break` failed: skip the operation, run the failure and finally hooks.
    public var broke: Bool
    /// Failures of `ignore` hooks and other remarks, recorded as warnings of the job.
    public var warnings: [String]
    /// The first failure, in one sentence, for the job's error.
    public var error: String?

    public init(failed: Bool = false, broke: Bool = false, warnings: [String] = [], error: String? = nil) {
        self.failed = failed
        self.broke = broke
        self.warnings = warnings
        self.error = error
    }
}
