import Foundation
import Subprocess
import SystemPackage

/// Runs child processes the way Hen needs them run: a complete environment given by the caller, output
/// streamed line by line with secrets redacted, exit status as data, and a clean stop on cancellation.
///
/// Stopping: when the caller is cancelled the child gets SIGINT, its output is *still read* until it exits
/// (restic finishes its cleanup and removes its lock; a closed pipe would kill it with SIGPIPE and leave a
/// stale lock), and it gets SIGKILL only after `terminationGrace`. The reading happens in a task the
/// caller's cancellation does not reach.
public enum ChildProcess {
    /// Runs to completion, calling `onLine` for each stdout and stderr line as it arrives (lines of any
    /// length; invalid UTF-8 repaired; secrets redacted). `onLine` is called from two tasks (one per stream):
    /// lines of one stream arrive in order.
    ///
    /// If the calling task is cancelled the child gets SIGINT, its output keeps being read until it exits,
    /// SIGKILL follows after `terminationGrace`, and only then does this return, with `wasInterrupted`.
    /// A caller already cancelled does not start the child (`wasInterrupted`, no exit code).
    public static func run(
        _ request: ChildProcessRequest,
        onLine: @escaping @Sendable (ChildOutputLine) -> Void
    ) async throws(ChildProcessError) -> ChildProcessResult {
        try await supervise(
            request,
            stdout: .lineBatches { lines in for line in lines { onLine(.stdout(line)) } },
            onStderrLine: { line in onLine(.stderr(line)) }
        )
    }

    /// Runs to completion, handing stdout's bytes untouched to `onStdout` and stderr's lines (redacted) to
    /// `onStderrLine`. When `onStdout` returns false (a reader that has seen enough, or something it refuses)
    /// the child gets SIGINT as on cancellation, and the rest of its stdout is read and discarded until it
    /// exits; the result then says `wasInterrupted`. Cancelling the caller does the same.
    public static func run(
        _ request: ChildProcessRequest,
        onStdout: @escaping @Sendable ([UInt8]) async -> Bool,
        onStderrLine: @escaping @Sendable (String) -> Void
    ) async throws(ChildProcessError) -> ChildProcessResult {
        try await supervise(request, stdout: .bytesUntil(onStdout), onStderrLine: onStderrLine)
    }

    /// What to do with stdout: cut it into (redacted) lines, handed over the lines of one read together, or
    /// pass the bytes through untouched (until the reader says stop).
    enum StdoutHandling: Sendable {
        case lineBatches(@Sendable ([String]) async -> Void)
        case bytes(@Sendable ([UInt8]) async -> Void)
        case bytesUntil(@Sendable ([UInt8]) async -> Bool)
    }

    /// Starts the child in a task of its own and waits for it; the caller's cancellation becomes SIGINT.
    static func supervise(
        _ request: ChildProcessRequest,
        stdout: StdoutHandling,
        onStderrLine: @escaping @Sendable (String) -> Void
    ) async throws(ChildProcessError) -> ChildProcessResult {
        if Task.isCancelled {
            return ChildProcessResult(exitCode: nil, signal: nil, wasInterrupted: true, stderrTail: [])
        }
        let launch = try ChildLaunch(request)
        let handle = ChildProcessHandle(grace: request.terminationGrace, interruptsGroup: request.interruptsProcessGroup)
        let urgency = ChildStopUrgency.current
        let registration = urgency?.register(handle)
        defer { if let registration { urgency?.remove(registration) } }
        // Detached: cancelling the caller must not cancel the reads (see the type's documentation).
        let task = Task.detached {
            await execute(request, launch: launch, handle: handle, stdout: stdout, onStderrLine: onStderrLine)
        }
        let outcome = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            handle.interrupt()
        }
        return try outcome.get()
    }

    private struct ReadOutcome: Sendable {
        var stderrTail: [String]
        var failure: String?
        var interrupted: Bool
    }

    private enum StreamRead: Sendable {
        case stdout(failure: String?)
        case stderr(tail: [String], failure: String?)
    }

    private static func execute(
        _ request: ChildProcessRequest,
        launch: ChildLaunch,
        handle: ChildProcessHandle,
        stdout: StdoutHandling,
        onStderrLine: @escaping @Sendable (String) -> Void
    ) async -> Result<ChildProcessResult, ChildProcessError> {
        let redactor = SecretRedactor(request.secrets)
        var platform = PlatformOptions()
        // Its own process group: a terminal's Ctrl-C reaches the daemon, which decides; and the final
        // SIGKILL can take the child's helpers with it.
        platform.processGroupID = 0
        // Only used if the body fails unexpectedly; the normal stop is ChildProcessHandle's.
        platform.teardownSequence = [.send(signal: .interrupt, allowedDurationToNextStep: request.terminationGrace)]
        var environment: [Environment.Key: String] = [:]
        for (name, value) in request.environment {
            if let key = Environment.Key(rawValue: name) { environment[key] = value }
        }
        let configuration = Configuration(
            executable: .path(FilePath(launch.executablePath)),
            arguments: Arguments(launch.arguments),
            environment: .custom(environment),
            workingDirectory: request.workingDirectory.map { FilePath($0) },
            platformOptions: platform
        )
        let tailCapacity = request.stderrTailLines
        let input: FileDescriptor
        do {
            input = try ChildInput.open(request.standardInput)
        } catch {
            return .failure(ChildProcessError(error.code, error.message, executable: request.executable))
        }
        do {
            let execution = try await Subprocess.run(
                configuration,
                input: .fileDescriptor(input, closeAfterSpawningProcess: true),
                output: .sequence,
                error: .sequence
            ) { execution -> ReadOutcome in
                handle.attach(execution)
                // Before the first read: swift-subprocess reads in chunks of the pipe's size (and zeroes a
                // buffer of that size for every read, so lines, read as they come, keep a smaller pipe).
                switch stdout {
                case .lineBatches: break
                case .bytes, .bytesUntil:
                    PipeCapacity.enlargeStdout(of: execution.processIdentifier.value)
                }
                let reads = await withTaskGroup(of: StreamRead.self, returning: [StreamRead].self) { group in
                    group.addTask {
                        do {
                            switch stdout {
                            case .lineBatches(let deliver):
                                var splitter = LineSplitter(maxLineBytes: request.maxLineBytes)
                                for try await buffer in execution.standardOutput {
                                    let lines = splitter.feed(buffer.withUnsafeBytes { Array($0) })
                                    if !lines.isEmpty { await deliver(lines.map(redactor.redact)) }
                                }
                                if let last = splitter.finish() { await deliver([redactor.redact(last)]) }
                            case .bytes(let deliver):
                                for try await buffer in execution.standardOutput {
                                    await deliver(buffer.withUnsafeBytes { Array($0) })
                                }
                            case .bytesUntil(let deliver):
                                var reading = true
                                for try await buffer in execution.standardOutput where reading {
                                    if await !deliver(buffer.withUnsafeBytes { Array($0) }) {
                                        reading = false
                                        handle.interrupt()
                                    }
                                }
                            }
                            return .stdout(failure: nil)
                        } catch {
                            return .stdout(failure: redactor.redact(String(describing: error)))
                        }
                    }
                    group.addTask {
                        var splitter = LineSplitter(maxLineBytes: request.maxLineBytes)
                        var tail = LineTail(capacity: tailCapacity)
                        do {
                            for try await buffer in execution.standardError {
                                for line in splitter.feed(buffer.withUnsafeBytes { Array($0) }) {
                                    let redacted = redactor.redact(line)
                                    tail.append(redacted)
                                    onStderrLine(redacted)
                                }
                            }
                            if let last = splitter.finish() {
                                let redacted = redactor.redact(last)
                                tail.append(redacted)
                                onStderrLine(redacted)
                            }
                            return .stderr(tail: tail.lines, failure: nil)
                        } catch {
                            return .stderr(tail: tail.lines, failure: redactor.redact(String(describing: error)))
                        }
                    }
                    var reads: [StreamRead] = []
                    for await read in group { reads.append(read) }
                    return reads
                }
                let interrupted = handle.detach()
                var outcome = ReadOutcome(stderrTail: [], failure: nil, interrupted: interrupted)
                for read in reads {
                    switch read {
                    case .stdout(let failure):
                        outcome.failure = outcome.failure ?? failure
                    case .stderr(let tail, let failure):
                        outcome.stderrTail = tail
                        outcome.failure = outcome.failure ?? failure
                    }
                }
                return outcome
            }
            let outcome = execution.closureResult
            if let failure = outcome.failure {
                return .failure(ChildProcessError(
                    .ioFailed,
                    "Reading the output of \(request.executable) failed: \(failure)",
                    executable: request.executable
                ))
            }
            var result = ChildProcessResult(exitCode: nil, signal: nil, wasInterrupted: outcome.interrupted, stderrTail: outcome.stderrTail)
            switch execution.terminationStatus {
            case .exited(let code): result.exitCode = code
            case .signaled(let signal): result.signal = signal
            }
            return .success(result)
        } catch {
            let detail = redactor.redact(String(describing: error))
            let code: ChildProcessError.Code
            let subprocessCode = (error as? SubprocessError)?.code
            if subprocessCode == .executableNotFound {
                code = .executableNotFound
            } else if subprocessCode == .spawnFailed || subprocessCode == .failedToChangeWorkingDirectory {
                code = .spawnFailed
            } else {
                code = .ioFailed
            }
            let verb = code == .ioFailed ? "Supervising" : "Starting"
            return .failure(ChildProcessError(code, "\(verb) \(request.executable) failed: \(detail)", executable: request.executable))
        }
    }
}
