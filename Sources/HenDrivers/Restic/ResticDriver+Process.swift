import Foundation
import Logging
import HenProcess

extension ResticDriver {
    /// What restic may see of the daemon's environment: what rclone, sftp and the cache need, nothing else.
    static let passedThroughEnvironment = ["PATH", "HOME", "TZ", "TMPDIR", "USER", "LANG"]

    /// The child's complete environment. Secrets travel here, never in argv.
    var environment: [String: String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: Self.passedThroughEnvironment)
        // Progress lines four times a second: enough for a live view, few enough for the job log.
        environment["RESTIC_PROGRESS_FPS"] = "4"
        for (name, value) in repository.environment { environment[name] = value.value }
        environment["RESTIC_REPOSITORY"] = repository.location
        // One source of the password, whatever the repository's env holds: restic refuses two.
        for name in ["RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND"] { environment[name] = nil }
        if let password = repository.password {
            environment["RESTIC_PASSWORD"] = password.value
        } else if let passwordFile = repository.passwordFile {
            environment["RESTIC_PASSWORD_FILE"] = passwordFile
        } else if let passwordCommand = repository.passwordCommand {
            // restic runs it at each use with this environment and reads its stdout; its stderr reaches
            // restic's, so a failing command explains itself in the job's log (see `classify`).
            environment["RESTIC_PASSWORD_COMMAND"] = passwordCommand
        }
        return environment
    }

    /// Everything redacted from restic's output: the target's secrets and a password inside the location.
    var secrets: [String] {
        var secrets = repository.secretValues
        if let password = Self.locationPassword(repository.location) { secrets.append(password) }
        return secrets
    }

    /// The location as it may appear in a message: without a password in a URL.
    var displayLocation: String {
        guard let password = Self.locationPassword(repository.location) else { return repository.location }
        return repository.location.replacingOccurrences(of: ":" + password + "@", with: ":***@")
    }

    private static func locationPassword(_ location: String) -> String? {
        guard let scheme = location.range(of: "://") else { return nil }
        let rest = location[scheme.upperBound...]
        guard let at = rest.firstIndex(of: "@") else { return nil }
        let userInfo = rest[..<at]
        guard !userInfo.contains("/"), let colon = userInfo.firstIndex(of: ":") else { return nil }
        let password = String(userInfo[userInfo.index(after: colon)...])
        return password.isEmpty ? nil : password
    }

    /// restic's `--limit-*` take KiB/s: round up, and never 0 (which would mean unlimited).
    static func kibibytesPerSecond(_ bytesPerSecond: Int) -> Int {
        max(1, (bytesPerSecond + 1023) / 1024)
    }

    static let interruptGrace: Duration = .seconds(30)

    /// The version of this driver's restic, read once per executable (and kept in the data directory, so
    /// that the next process need not ask: ``ResticVersionFile``, unless `useStored` is false).
    func version(useStored: Bool = true) async throws(DriverError) -> ResticVersion {
        if let cached = ResticVersionCache.cached(executable) { return cached }
        if useStored, let stored = ResticVersionFile.read(executable, directory: context.cacheDirectory), stored >= .floor {
            ResticVersionCache.store(stored, for: executable)
            return stored
        }
        let request = ChildProcessRequest(
            executable: executable,
            arguments: ["version"],
            environment: ChildProcessRequest.currentEnvironment(keeping: Self.passedThroughEnvironment),
            terminationGrace: .seconds(2)
        )
        var output: [String] = []
        let result: ChildProcessResult
        switch await Self.run(request, onLine: { line in
            if case .stdout(let text) = line { output.append(text) }
        }) {
        case .success(let value): result = value
        case .failure(let error): throw processFailure(error, operation: "version")
        }
        if result.wasInterrupted { throw cancelled("version") }
        guard result.succeeded else {
            throw DriverError(
                .binaryMissing,
                "\(executable) does not work (restic version ended with \(result)): reinstall restic (apt-get install restic) or fix executables.restic.",
                repository: repository.name,
                detail: result.stderrTail.joined(separator: "\n")
            )
        }
        let version = ResticVersion(versionOutput: output.joined(separator: " ")) ?? .floor
        guard version >= .floor else {
            throw DriverError(
                .binaryMissing,
                "\(executable) is restic \(version), older than \(ResticVersion.floor), the oldest Hen Backup supports: install a newer restic, or point executables.restic at one.",
                repository: repository.name
            )
        }
        ResticVersionCache.store(version, for: executable)
        ResticVersionFile.write(version, for: executable, directory: context.cacheDirectory)
        return version
    }

    /// Runs `restic version` (not trusting a version stored by an earlier process: this is the check that it runs).
    public func verifyPrograms() async throws -> [String] {
        ["restic \(try await version(useStored: false)) (\(executable))"]
    }

    /// The request for one restic command: its global flags (cache, limits, lock retry) after the command
    /// name, the environment, the secrets to redact and the niceness.
    func processRequest(_ arguments: [String], version: ResticVersion, limits: TransferLimits? = nil, retryLock: Bool = true, environment extra: [String: String] = [:]) -> ChildProcessRequest {
        var global: [String] = []
        if let cache = context.cacheDirectory {
            // restic creates the cache for a backup but not for a check, which then warns and runs without.
            try? FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
            global += ["--cache-dir", cache]
        }
        let limits = limits ?? repository.limits
        if let upload = limits.uploadBytesPerSecond { global += ["--limit-upload", String(Self.kibibytesPerSecond(upload))] }
        if let download = limits.downloadBytesPerSecond { global += ["--limit-download", String(Self.kibibytesPerSecond(download))] }
        if context.readOnly {
            // restic 0.14 honours --no-lock for snapshots, dump, restore, stats, check, cat and find (ls never
            // locks); commands that write ignore it, and the engine refuses those in recovery mode anyway.
            global.append("--no-lock")
        } else if retryLock && version.supportsRetryLock {
            global += ["--retry-lock", "1m"]
        }
        return ChildProcessRequest(
            executable: executable,
            arguments: Array(arguments.prefix(1)) + global + Array(arguments.dropFirst()),
            environment: environment.merging(extra) { _, new in new },
            niceness: context.niceness,
            secrets: secrets,
            // restic's own cleanup after SIGINT (finish the packs in flight, remove its lock) gets this long.
            terminationGrace: Self.interruptGrace
        )
    }

    /// Runs a request to its end, handing each line to `onLine` in the calling task. Cancelling the
    /// caller interrupts the child (ChildProcess's rule) while its lines keep coming until it exits.
    static func run(_ request: ChildProcessRequest, onLine: (ChildOutputLine) -> Void) async -> Result<ChildProcessResult, ChildProcessError> {
        let relay = DriverOutputRelay<ChildOutputLine>()
        async let outcome = relaying(request, to: relay)
        while let line = await relay.next() { onLine(line) }
        return await outcome
    }

    private static func relaying(_ request: ChildProcessRequest, to relay: DriverOutputRelay<ChildOutputLine>) async -> Result<ChildProcessResult, ChildProcessError> {
        defer { relay.finish() }
        do {
            return .success(try await ChildProcess.run(request) { relay.yield($0) })
        } catch {
            return .failure(error)
        }
    }

    /// Runs one restic command to completion and returns its result once restic has exited.
    ///
    /// `onLine` sees every line, in the caller's task; stderr lines that are not JSON also become log events. `accept` says
    /// which results are not failures (default: exit 0). A failure is classified into a ``DriverError``;
    /// a lock gets one `restic unlock` (stale locks only) and one more attempt, `beforeAttempt` resetting
    /// whatever the caller collected. A cancelled caller gets SIGINT sent to restic, restic's output is
    /// read until it exits, and then `.cancelled` is thrown.
    func runToCompletion(
        _ arguments: [String],
        operation: String,
        limits: TransferLimits? = nil,
        environment: [String: String] = [:],
        events: DriverEventHandler,
        handlesLocks: Bool = true,
        beforeAttempt: () -> Void = {},
        onLine: (ChildOutputLine) -> Void = { _ in },
        accept: (ChildProcessResult) -> Bool = { $0.succeeded }
    ) async throws(DriverError) -> ChildProcessResult {
        let version = try await version()
        var attempt = 1
        while true {
            if Task.isCancelled { throw cancelled(operation) }
            beforeAttempt()
            let request = processRequest(arguments, version: version, limits: limits, retryLock: handlesLocks, environment: environment)
            context.logger.debug("restic \(operation)", metadata: ["repository": "\(repository.name)", "arguments": "\(request.arguments)"])
            // The job log shows what ran: limits and priority as restic got them (secrets redacted).
            events(.log(level: .info, message: "run: \(request.displayCommandLine)"))
            let result: ChildProcessResult
            switch await Self.run(request, onLine: { line in
                // JSON on stderr (restic's error messages) is the operation's to read.
                if case .stderr(let text) = line, text.first != "{" { log(text, events: events) }
                onLine(line)
            }) {
            case .success(let value): result = value
            case .failure(let error): throw processFailure(error, operation: operation)
            }
            // restic may have finished its work before the SIGINT reached it (a backup whose snapshot is
            // saved): that is an outcome to report truthfully, not a cancellation.
            if result.wasInterrupted, result.exitCode == 0 || result.exitCode == 3, accept(result) { return result }
            if result.wasInterrupted {
                if handlesLocks, !context.readOnly {
                    // A restic killed after the grace (at a low upload limit, sending the packs in flight can
                    // take minutes) left its lock; so does one interrupted while it was still taking the lock
                    // (restic 0.14 registers the lock's cleanup only after writing it). Its process is gone,
                    // so the lock is stale: remove it, whatever cancelled us. Live locks are never touched.
                    let driver = self
                    await Task.detached { try? await driver.removeStaleLocks(events: { _ in }) }.value
                    if result.signal == SIGKILL {
                        events(.log(level: .warning, message: "restic did not stop in time after SIGINT and was killed; its stale lock was removed."))
                    }
                }
                throw cancelled(operation)
            }
            if accept(result) { return result }
            let error = classify(result, operation: operation, version: version)
            if error.code == .repositoryLocked, handlesLocks, attempt == 1 {
                attempt += 1
                events(.log(level: .warning, message: "Repository \"\(repository.name)\" is locked; removing stale locks (restic unlock) and trying again."))
                try await removeStaleLocks(events: events)
                continue
            }
            throw error
        }
    }

    /// Follows one line of a `--json` run (backup, restore): restic writes status and summary to stdout and
    /// its error messages to stderr. Progress and errors become events as they arrive; other stdout lines
    /// are logged (restic 0.14's restore prints sentences).
    func follow(_ line: ChildOutputLine, into report: inout ResticRunReport, events: DriverEventHandler) {
        let text: String
        switch line {
        case .stdout(let stdout): text = stdout
        case .stderr(let stderr):
            guard stderr.first == "{" else { return }
            text = stderr
        }
        guard let message = ResticMessage.decode(text) else {
            log(text, events: events)
            return
        }
        switch message.messageType {
        case "status":
            events(.progress(message.progress))
        case "error":
            let warning = message.errorText
            report.warnings.append(warning)
            // restic's error message as fields, for log collectors (the event carries it as one sentence).
            var fields: Logger.Metadata = ["restic_message_type": "error"]
            if let during = message.during { fields["during"] = "\(during)" }
            if let item = message.item { fields["item"] = "\(item)" }
            if let error = message.error?.text ?? message.message { fields["error"] = "\(error)" }
            context.logger.warning("restic reported an error", metadata: fields)
            events(.warning(warning))
        case "summary":
            report.summary = message
        case "verbose_status":
            if let item = message.item { events(.log(level: .debug, message: item)) }
        default:
            break
        }
    }

    /// `restic unlock`: removes locks whose process is gone (or that are too old); never `--remove-all`.
    func removeStaleLocks(events: DriverEventHandler) async throws(DriverError) {
        guard !context.readOnly else {
            throw failure(.repositoryLocked, "Repository \"\(repository.name)\" is locked, and recovery mode never removes locks.")
        }
        _ = try await runToCompletion(["unlock"], operation: "unlock", events: events, handlesLocks: false)
    }

    /// A stderr line as a log event, its level guessed from restic's wording.
    func log(_ text: String, events: DriverEventHandler) {
        let line = Self.plain(text)
        guard !line.isEmpty else { return }
        let lower = line.lowercased()
        let level: DriverEvent.LogLevel
        if lower.hasPrefix("fatal") || lower.hasPrefix("error") {
            level = .error
        } else if lower.hasPrefix("warning") || lower.contains("error") {
            level = .warning
        } else {
            level = .info
        }
        events(.log(level: level, message: line))
    }

    /// A line without terminal control sequences (restic clears the status line with `ESC[2K`).
    static func plain(_ text: String) -> String {
        guard text.contains("\u{1B}") else { return text.trimmingCharacters(in: .whitespaces) }
        var result = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                // Skip a CSI sequence: ESC [ parameters final-byte.
                guard let next = iterator.next() else { break }
                if next == "[" {
                    while let byte = iterator.next(), !(0x40...0x7E).contains(byte.value) {}
                }
                continue
            }
            result.unicodeScalars.append(scalar)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}
