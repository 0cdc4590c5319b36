import Foundation
import HenProcess

extension HookRunner {
    /// Runs a command hook through HenProcess: SIGINT on timeout or cancel, output drained, SIGKILL after
    /// `terminationGrace`.
    func runCommand(
        _ command: CommandHook,
        name: String,
        index: Int,
        phase: HookPhase,
        policy: HookFailurePolicy,
        context: HookContext
    ) async -> HookStepResult {
        let start = Date()
        let secrets = HookSecrets(command: command)
        var step = HookStepResult(name: name, index: index, phase: phase, policy: policy, start: start, end: start, outcome: .failed, attempts: 1)

        let executable: String
        let arguments: [String]
        switch command.invocation {
        case .argv(let argv):
            guard let first = argv.first, !first.isEmpty else {
                step.error = "The command is empty."
                step.attempts = 0
                return step
            }
            executable = first
            arguments = Array(argv.dropFirst())
        case .shell(let script):
            executable = "/bin/sh"
            arguments = ["-c", script]
        }

        // PATH and HOME from the daemon, then the hook's own variables, then the job's HEN_* (which win).
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME"])
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        for (key, value) in command.environment { environment[key] = value.value }
        environment.merge(context.environment) { _, job in job }

        let request = ChildProcessRequest(
            executable: executable,
            arguments: arguments,
            environment: environment,
            workingDirectory: command.workingDirectory,
            niceness: niceness,
            secrets: secrets.values,
            terminationGrace: terminationGrace,
            stderrTailLines: 0,
            // A shell hook's commands (pg_dump, curl…) get the SIGINT too, and can clean up.
            interruptsProcessGroup: true
        )
        let output = BoundedOutput(limit: outputLimit)
        let timeout = command.timeout.flatMap { $0 > 0 ? Duration.milliseconds(Int64(($0 * 1000).rounded())) : nil }
        let (result, timedOut) = await Self.run(request, timeout: timeout, output: output)

        step.end = Date()
        (step.output, step.outputTruncated) = output.text
        switch result {
        case .failure(let error):
            step.error = secrets.redact(error.message)
        case .success(let exit):
            step.exitCode = exit.exitCode
            step.signal = exit.signal
            if timedOut {
                step.timedOut = true
                step.error = "The command timed out after \(timeout?.shortDescription ?? "its limit") and was stopped."
            } else if exit.wasInterrupted {
                step.cancelled = true
                step.error = "The command was stopped because the job was cancelled."
            } else if let code = exit.exitCode, code == 0 {
                step.outcome = .succeeded
            } else if let code = exit.exitCode {
                step.error = "The command exited with code \(code)."
            } else if let signal = exit.signal {
                step.error = "The command was ended by signal \(signal)."
            } else {
                step.error = "The command did not run."
            }
        }
        return step
    }

    private enum Race: Sendable {
        case finished(Result<ChildProcessResult, ChildProcessError>)
        case timedOut
        case timerCancelled
    }

    /// Runs the child; when `timeout` passes first, cancels it (HenProcess then interrupts and drains it)
    /// and waits for it to end.
    private static func run(
        _ request: ChildProcessRequest,
        timeout: Duration?,
        output: BoundedOutput
    ) async -> (Result<ChildProcessResult, ChildProcessError>, timedOut: Bool) {
        @Sendable func execute() async -> Result<ChildProcessResult, ChildProcessError> {
            do throws(ChildProcessError) {
                let result = try await ChildProcess.run(request) { line in
                    switch line {
                    case .stdout(let text), .stderr(let text): output.append(text)
                    }
                }
                return .success(result)
            } catch {
                return .failure(error)
            }
        }
        guard let timeout else { return (await execute(), false) }
        return await withTaskGroup(of: Race.self) { group in
            group.addTask { .finished(await execute()) }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    return .timerCancelled
                }
            }
            var timedOut = false
            while let next = await group.next() {
                switch next {
                case .finished(let result):
                    group.cancelAll()
                    return (result, timedOut)
                case .timedOut:
                    timedOut = true
                    group.cancelAll()  // the command's task: SIGINT, drain, SIGKILL after the grace
                case .timerCancelled:
                    break
                }
            }
            return (.success(ChildProcessResult(exitCode: nil, signal: nil, wasInterrupted: true, stderrTail: [])), timedOut)
        }
    }
}
