import Foundation
import HenProcess
import Logging

/// Runs the hooks of one phase of a job, in order, applying each hook's failure policy.
///
/// `ignore`: the failure is logged and becomes a warning. `continue`: the next hooks run and the outcome
/// says `failed`. `break`: the phase's remaining hooks are skipped and the outcome says `broke` (the
/// caller then skips the operation and runs the failure and finally phases). A timeout is a failure.
/// Cancelling the calling task stops the running hook cleanly and skips the rest (`cancelled`).
public struct HookRunner: Sendable {
    public var httpClient: HTTPClient
    public var niceness: Niceness
    public var logger: Logger
    /// The wait before the first HTTP retry; each further retry waits twice as long.
    public var retryBackoff: Duration
    /// Measures the backoff waits (tests pass a clock that does not really wait).
    public var clock: any Clock<Duration>
    /// Bytes of output (or response body) kept per hook.
    public var outputLimit: Int
    /// How long a command may take to exit after SIGINT (timeout or cancel) before SIGKILL.
    public var terminationGrace: Duration

    public init(
        httpClient: HTTPClient = HTTPClient(),
        niceness: Niceness = Niceness(),
        logger: Logger,
        retryBackoff: Duration = .seconds(1),
        clock: any Clock<Duration> = ContinuousClock(),
        outputLimit: Int = 16 * 1024,
        terminationGrace: Duration = .seconds(5)
    ) {
        self.httpClient = httpClient
        self.niceness = niceness
        self.logger = logger
        self.retryBackoff = retryBackoff
        self.clock = clock
        self.outputLimit = outputLimit
        self.terminationGrace = terminationGrace
    }

    /// Runs `hooks` (one phase's, in order) and reports each step as it ends through `onStep`.
    public func run(
        _ hooks: [HookDefinition],
        phase: HookPhase,
        context: HookContext,
        onStep: @escaping @Sendable (HookStepResult) -> Void
    ) async -> HookPhaseOutcome {
        var outcome = HookPhaseOutcome(phase: phase)
        for (index, hook) in hooks.enumerated() {
            let name = Self.stepName(hook, index: index, phase: phase)
            if outcome.broke || outcome.cancelled || Task.isCancelled {
                if Task.isCancelled { outcome.cancelled = true }
                let now = Date()
                let reason = outcome.broke ? "an earlier \(phase.rawValue) hook failed with on_failure: break" : "the job was cancelled"
                let step = HookStepResult(name: name, index: index, phase: phase, policy: hook.onFailure, start: now, end: now, outcome: .skipped, error: "Skipped because \(reason).", attempts: 0, cancelled: !outcome.broke)
                outcome.steps.append(step)
                onStep(step)
                continue
            }
            var log = logger
            log[metadataKey: "hook"] = "\(name)"
            log[metadataKey: "job_id"] = "\(context.jobID)"
            log[metadataKey: "step"] = "hook:\(phase.rawValue):\(index)"
            log.info("hook started")
            let step: HookStepResult
            switch hook.action {
            case .command(let command):
                step = await runCommand(command, name: name, index: index, phase: phase, policy: hook.onFailure, context: context)
            case .http(let http):
                step = await runHTTP(http, name: name, index: index, phase: phase, policy: hook.onFailure, context: context, logger: log)
            }
            outcome.steps.append(step)
            let metadata: Logger.Metadata = [
                "outcome": "\(step.outcome.rawValue)",
                "duration_ms": "\(Int(step.duration * 1000))",
                "attempts": "\(step.attempts)",
            ]
            if step.cancelled {
                outcome.cancelled = true
                log.notice("hook stopped: job cancelled", metadata: metadata)
            } else if step.outcome == .failed {
                let sentence = "Hook \(name) failed: \(step.error ?? "unknown error")"
                switch hook.onFailure {
                case .ignore:
                    outcome.warnings.append(sentence)
                    log.warning("hook failed, ignored (on_failure: ignore): \(step.error ?? "")", metadata: metadata)
                case .continue:
                    outcome.failed = true
                    log.error("hook failed, job will fail (on_failure: continue): \(step.error ?? "")", metadata: metadata)
                case .break:
                    outcome.broke = true
                    log.error("hook failed, stopping (on_failure: break): \(step.error ?? "")", metadata: metadata)
                }
            } else {
                log.info("hook succeeded", metadata: metadata)
            }
            onStep(step)
        }
        return outcome
    }

    /// A name safe to log: no URL credentials or query, no secret values, bounded length.
    public static func stepName(_ hook: HookDefinition, index: Int, phase: HookPhase) -> String {
        let prefix = "\(phase.rawValue)[\(index)]"
        switch hook.action {
        case .http(let http):
            return "\(prefix) http \(http.method.uppercased()) \(HookSecrets(http: http).redact(displayURL(http.url)))"
        case .command(let command):
            let redactor = HookSecrets(command: command)
            switch command.invocation {
            case .argv(let argv):
                return "\(prefix) command \(redactor.redact(Self.clip(argv.joined(separator: " "))))"
            case .shell(let script):
                return "\(prefix) shell \(redactor.redact(Self.clip(script)))"
            }
        }
    }

    private static func clip(_ text: String) -> String {
        let oneLine = text.replacing("\n", with: " ")
        return oneLine.count > 80 ? String(oneLine.prefix(79)) + "…" : oneLine
    }
}
