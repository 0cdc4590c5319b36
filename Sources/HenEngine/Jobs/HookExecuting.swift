import Foundation
import HenHooks
import HenProcess
import Logging

/// Runs a phase's hooks for a job. The seam between the engine and HenHooks: ``HookRunner`` conforms
/// (``Engine/open(configuration:registry:logger:)`` uses it); tests pass a recording fake; without one,
/// jobs run without hooks.
public protocol HookExecuting: Sendable {
    /// Runs `hooks` in order, reporting each as a ``JobStep`` through `onStep`, and says what the phase
    /// means for the job (HenHooks' ``HookPhaseOutcome``: failed, broke, cancelled, warnings, error).
    func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome

    /// The same, logging with `logger` (the job's logger, so that hook lines carry the job's identity), and
    /// command hooks running at the backup's `nice` (CPU and IO priority), like its driver.
    func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, logger: Logger, niceness: Niceness, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome
}

extension HookExecuting {
    /// Executors that log nothing of their own and start no process ignore the logger and the niceness.
    public func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, logger: Logger, niceness: Niceness, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome {
        await run(hooks, phase: phase, context: context, onStep: onStep)
    }
}

/// What a hook may know about its job: HenHooks' ``HookContext`` (`HEN_*` variables, `{{job.*}}`).
public typealias HookRunContext = HookContext

extension HookRunner: HookExecuting {
    public func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome {
        await run(hooks, phase: phase, context: context, onStep: { (result: HookStepResult) in onStep(JobStep(result)) })
    }

    public func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, logger: Logger, niceness: Niceness, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome {
        var runner = self
        runner.niceness = niceness
        runner.logger = logger
        runner.logger[metadataKey: "component"] = "hooks"
        return await runner.run(hooks, phase: phase, context: context, onStep: { (result: HookStepResult) in onStep(JobStep(result)) })
    }
}

extension JobStep {
    /// A hook's step in the job record: `hook:before:0`, named as the hook runner names it.
    public init(_ result: HookStepResult) {
        let state: JobStep.State
        switch result.outcome {
        case .succeeded: state = .succeeded
        case .skipped: state = .skipped
        case .failed: state = result.cancelled ? .cancelled : (result.policy == .ignore ? .warning : .failed)
        }
        self.init(id: "hook:\(result.phase.rawValue):\(result.index)", name: result.name, state: state, startedAt: result.start, endedAt: result.end, message: result.error)
        hook = HookDetail(
            phase: result.phase.rawValue, policy: result.policy.rawValue, exitCode: result.exitCode, signal: result.signal,
            httpStatus: result.httpStatus, attempts: result.attempts, timedOut: result.timedOut,
            output: result.output, outputTruncated: result.outputTruncated
        )
    }
}
