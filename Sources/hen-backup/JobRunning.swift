import ArgumentParser
import Foundation
import HenDrivers
import HenEngine
import Synchronization
import UnixSignals

/// Runs one job in this process, as `backup`, `prune`, `check` and `restore` do: shows progress on a
/// terminal, prints the outcome (or the record with `--json`), and exits 0, 1 or 3.
enum JobRunning {
    static func run(_ operation: JobOperation, context: CommandContext) async throws {
        try await run(context: context) { _ in operation }
    }

    /// The same, for an operation that needs the engine first (a restore resolves `latest` or a short id to
    /// one of this host's snapshots).
    static func run(context: CommandContext, _ makeOperation: (Engine) async throws -> JobOperation) async throws {
        // A job writes the store: one such process per data directory (a daemon there refuses us too). A job
        // run in this process is the administrator's own: its restores may write anywhere.
        let engine = try await context.openEngine(exclusiveAs: "a command running a job", restoreScope: .anywhere)
        let operation: JobOperation
        do {
            operation = try await makeOperation(engine)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let request = JobRequest(operation: operation, trigger: .cli, priority: .immediate)
        let progress = ProgressLine(enabled: !context.options.json && isatty(STDERR_FILENO) == 1)
        let record: JobRecord
        let job = Task { try await engine.runInProcess(request) { event in progress.show(event) } }
        // Ctrl-C, SIGTERM or a closed terminal (SIGHUP) stops the job the clean way (restic gets SIGINT,
        // finishes, removes its lock) and records it cancelled; without this trap the signal would kill us and
        // leave restic's lock and a job recorded as running behind. A second signal hurries the stop.
        let interrupted = Mutex(false)
        let signals = Task {
            for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup) {
                let first = interrupted.withLock { done in
                    defer { done = true }
                    return !done
                }
                progress.clear()
                if first {
                    printError("\(signal): stopping the job cleanly…")
                    job.cancel()
                } else {
                    printError("\(signal): stopping now (restic gets \(Engine.urgentGrace.components.seconds) seconds, then it is killed and its lock removed).")
                    engine.hurryStops()
                }
            }
        }
        defer { signals.cancel() }
        do {
            record = try await job.value
        } catch {
            progress.clear()
            printError("\(error)")
            throw ExitCode.failure
        }
        progress.clear()
        if context.options.json {
            print(String(decoding: try JobRecord.jsonEncoder().encode(record), as: UTF8.self))
        } else {
            printOutcome(record)
        }
        if interrupted.withLock({ $0 }) { throw ExitCode(130) }
        try exit(for: record)
    }

    /// Queues a job at the daemon (`POST path` with `body`); with `wait`, follows it to its end like an
    /// in-process run (progress, outcome, exit code), else prints the queued job and returns.
    static func runRemote(_ daemon: DaemonClient, path: String, body: (any Encodable)?, wait: Bool, options: GlobalOptions) async throws {
        let record = try await Daemon.report { try daemon.decode(RemoteJobEnvelope.self, try await daemon.send("POST", path, body: body)).job }
        guard wait else {
            if options.json {
                print(String(decoding: try JobRecord.jsonEncoder().encode(record), as: UTF8.self))
            } else {
                print("\(record.operation) \(record.target): \(record.state.rawValue) as job \(record.id) at \(daemon.baseURL.absoluteString) (hen-backup job \(record.id) --follow shows it; --wait waits).")
            }
            return
        }
        try await follow(daemon, id: record.id, options: options, printLog: false)
    }

    /// Follows a job at the daemon through its events until it ends: its log (`printLog`) or a progress
    /// line, then the outcome; exits like an in-process run. Ctrl-C asks the daemon to cancel the job (cleanly)
    /// and goes on following until it has stopped; a second Ctrl-C stops following.
    static func follow(_ daemon: DaemonClient, id: String, options: GlobalOptions, printLog: Bool) async throws {
        let progress = ProgressLine(enabled: !options.json && !printLog && isatty(STDERR_FILENO) == 1)
        let interrupted = Mutex(0)
        let following = Task { () -> JobRecord? in
            for try await event in daemon.events("/api/v1/jobs/\(id)/events") {
                if printLog, case .log(_, let line) = event {
                    print("\(Formatting.localTime(line.time, in: daemon.timeZone)) \(line.level.rawValue): \(line.message)")
                    // At once, also into a pipe (`| tee`, `| grep`), where stdout is block-buffered.
                    fflush(nil)
                }
                progress.show(event)
                if case .state(_, let state, let record) = event, state.isFinished { return record }
            }
            return nil
        }
        let signals = Task {
            for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                let count = interrupted.withLock { count in
                    count += 1
                    return count
                }
                progress.clear()
                if count == 1 {
                    printError("\(signal): asking the daemon to cancel job \(id) (it stops cleanly)…")
                    do {
                        _ = try await daemon.send("POST", "/api/v1/jobs/\(id)/cancel")
                    } catch {
                        printError("\(error)")
                    }
                } else {
                    printError("\(signal): no longer following; the daemon goes on stopping job \(id).")
                    following.cancel()
                }
            }
        }
        defer { signals.cancel() }
        let final: JobRecord?
        do {
            final = try await following.value
        } catch is CancellationError {
            throw ExitCode(130)
        } catch {
            progress.clear()
            printError("\(error)")
            throw ExitCode.failure
        }
        progress.clear()
        guard let final else {
            if interrupted.withLock({ $0 }) > 1 { throw ExitCode(130) }
            printError("The daemon closed the event stream before job \(id) ended (is it shutting down?); hen-backup job \(id) shows it later.")
            throw ExitCode.failure
        }
        if options.json {
            print(String(decoding: try JobRecord.jsonEncoder().encode(final), as: UTF8.self))
        } else {
            printOutcome(final)
        }
        if interrupted.withLock({ $0 }) > 0 { throw ExitCode(130) }
        try exit(for: final)
    }

    /// `job ID --follow` without a daemon: the job store is read every second and new log lines printed
    /// (the job runs in another process: an in-process `hen-backup backup`).
    static func followStored(_ engine: Engine, record first: JobRecord, options: GlobalOptions) async throws {
        var record = first
        var printed = 0
        while true {
            for line in record.log.dropFirst(printed) {
                print("\(Formatting.localTime(line.time, in: engine.configuration.timeZone)) \(line.level.rawValue): \(line.message)")
            }
            fflush(nil)
            printed = max(printed, record.log.count)
            if record.state.isFinished { break }
            try await Task.sleep(for: .seconds(1))
            record = try await engine.job(id: record.id) ?? record
        }
        if options.json {
            print(String(decoding: try JobRecord.jsonEncoder().encode(record), as: UTF8.self))
        } else {
            printOutcome(record)
        }
        try exit(for: record)
    }

    static func exit(for record: JobRecord) throws {
        switch record.state {
        case .succeeded: return
        case .warning: throw ExitCode(3)
        default: throw ExitCode.failure
        }
    }

    static func printOutcome(_ record: JobRecord) {
        let took = record.startedAt.flatMap { start in record.endedAt.map { Formatting.duration(seconds: $0.timeIntervalSince(start)) } } ?? "-"
        print("\(record.operation) \(record.target): \(record.state.rawValue) in \(took) (job \(record.id))")
        for result in record.results {
            var parts: [String] = []
            if let id = result.snapshotID { parts.append("snapshot \(id.prefix(8))") }
            if let new = result.filesNew, let changed = result.filesChanged {
                parts.append("\(new) new, \(changed) changed, \(result.filesUnmodified ?? 0) unchanged files")
            }
            if let added = result.bytesAdded { parts.append("\(Formatting.bytes(added)) added") }
            if let removed = result.snapshotsRemoved { parts.append("\(removed.count) snapshots removed, \(result.snapshotsKept ?? 0) kept") }
            if let restored = result.filesRestored { parts.append("\(restored) files restored") }
            if let errors = result.checkErrors { parts.append(errors.isEmpty ? "no errors" : "\(errors.count) errors") }
            // Nothing counted (restic 0.14 reports no restore summary): the step's own sentence.
            if parts.isEmpty, let message = record.steps.last(where: { $0.repository == result.repository })?.message { parts.append(message) }
            print("  \(result.repository): \(parts.joined(separator: ", "))")
            for error in result.checkErrors ?? [] { print("    \(error)") }
        }
        for step in record.steps where step.state == .failed || step.state == .skipped {
            print("  step \(step.name): \(step.state.rawValue)\(step.message.map { " — \($0)" } ?? "")")
        }
        for warning in record.warnings.prefix(20) { print("  warning: \(warning)") }
        if record.warnings.count > 20 { print("  … and \(record.warnings.count - 20) more warnings (hen-backup job \(record.id))") }
        if let error = record.error { print("  error: \(error)") }
    }
}

/// One line on stderr that rewrites itself: `[ 42%] 120/300 files  1.2 GiB/3.0 GiB  ETA 0:35  backup to local-disk`.
final class ProgressLine: Sendable {
    private let enabled: Bool
    private let state = Mutex<(step: String, shown: Bool)>(("", false))

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ event: JobEvent) {
        guard enabled else { return }
        switch event {
        case .stepStarted(_, let step):
            state.withLock { $0.step = step.name }
            write("\(step.name)…")
        case .progress(_, let progress):
            var text = progress.fraction.map { String(format: "[%3.0f%%]", $0 * 100) } ?? "[ …  ]"
            if let done = progress.filesDone { text += " \(done)\(progress.totalFiles.map { "/\($0)" } ?? "") files" }
            if let bytes = progress.bytesDone { text += "  \(Formatting.bytes(bytes))\(progress.totalBytes.map { "/" + Formatting.bytes($0) } ?? "")" }
            if let remaining = progress.secondsRemaining, remaining > 0 { text += "  ETA \(Formatting.duration(seconds: remaining))" }
            write(text + "  " + state.withLock { $0.step })
        default:
            break
        }
    }

    func clear() {
        guard enabled, state.withLock({ $0.shown }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    private func write(_ text: String) {
        state.withLock { $0.shown = true }
        let width = 100
        let clipped = text.count > width ? String(text.prefix(width - 1)) + "…" : text
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(clipped)".utf8))
    }
}
