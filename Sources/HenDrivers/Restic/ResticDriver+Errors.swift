import Foundation
import HenProcess

extension ResticDriver {
    private var quotedName: String { "Repository \"\(repository.name)\"" }

    func failure(_ code: DriverError.Code, _ message: String, detail: String? = nil) -> DriverError {
        DriverError(code, message, repository: repository.name, detail: detail)
    }

    func cancelled(_ operation: String) -> DriverError {
        failure(.cancelled, "\(quotedName): restic \(operation) was cancelled; restic stopped cleanly.")
    }

    func snapshotNotFound(_ id: String) -> DriverError {
        failure(.snapshotNotFound, "\(quotedName) has no snapshot \(id) of host \(context.hostname).")
    }

    /// restic could not be started at all.
    func processFailure(_ error: ChildProcessError, operation: String) -> DriverError {
        if error.code == .executableNotFound {
            let hint = context.executables["restic"] == nil ? "apt-get install restic (or set executables.restic)" : "install it, or fix executables.restic (\(executable))"
            return failure(.binaryMissing, "restic is not installed: \(hint).", detail: error.message)
        }
        return failure(.failed, "\(quotedName): restic \(operation) could not be run: \(error.message)", detail: error.message)
    }

    /// A stderr line as words: restic 0.17+ with `--json` writes its fatal error as
    /// `{"message_type":"exit_error","code":12,"message":"Fatal: wrong password or no key found"}`.
    static func readable(_ line: String) -> String {
        if line.first == "{", let message = ResticMessage.decode(line), message.messageType == "exit_error" || message.messageType == "error" {
            let text = message.messageType == "exit_error" ? (message.message ?? line) : message.errorText
            return text.hasPrefix("Fatal:") || message.messageType == "error" ? text : "Fatal: " + text
        }
        return plain(line)
    }

    /// Turns a failed restic run into one sentence for the person who must fix it. restic 0.17+ has
    /// distinct exit codes; 0.14 is recognised by its words.
    func classify(_ result: ChildProcessResult, operation: String, version: ResticVersion) -> DriverError {
        let lines = result.stderrTail.map(Self.readable).filter { !$0.isEmpty }
        let detail = lines.joined(separator: "\n")
        let text = detail.lowercased()
        let code = result.exitCode

        let passwordHint = repository.password != nil ? "check the password"
            : repository.passwordFile != nil ? "check password_file"
            : repository.passwordCommand != nil ? "check what password_command prints" : "check the password"
        let wrongPassword = failure(.wrongPassword, "\(quotedName): wrong password (\(passwordHint)).", detail: detail)
        let missing = failure(
            .repositoryMissing,
            "\(quotedName): there is no restic repository at \(displayLocation) (initialize it, or set auto_init: true).",
            detail: detail
        )
        let locked = failure(
            .repositoryLocked,
            "\(quotedName) is locked by another restic process that is still running; try again when it has finished (stale locks were already removed).",
            detail: detail
        )

        if version.hasDistinctExitCodes {
            switch code {
            case 10: return missing
            case 11: return locked
            case 12: return wrongPassword
            default: break
            }
        }
        if text.contains("wrong password or no key found") || text.contains("no key found") {
            return wrongPassword
        }
        if repository.passwordCommand != nil, repository.password == nil, repository.passwordFile == nil,
            let failure = passwordCommandFailure(lines) {
            return failure
        }
        if text.contains("resolving password failed") || text.contains("reading password") || text.contains("password file") {
            return failure(.invalidRequest, "\(quotedName): the password could not be read (check password_file or password).", detail: detail)
        }
        if text.contains("an empty password is not allowed") || text.contains("please specify repository password") {
            return failure(.invalidRequest, "\(quotedName) has no password (set password or password_file).", detail: detail)
        }
        let unreachable = [
            "connection refused", "no such host", "i/o timeout", "network is unreachable", "no route to host",
            "connection reset", "tls handshake timeout", "context deadline exceeded", "server misbehaving",
            "timeout awaiting response", "dial tcp", "ssh: connect", "connection timed out",
        ]
        if let reason = unreachable.first(where: text.contains) {
            return failure(.backendUnreachable, "\(quotedName): the storage at \(displayLocation) cannot be reached (\(reason)).", detail: detail)
        }
        if text.contains("repository is already locked") || text.contains("unable to create lock") || text.contains("failed to lock") {
            return locked
        }
        if text.contains("is there a repository at the following location") || text.contains("unable to open config file")
            || text.contains("repository does not exist") || text.contains("bucket does not exist") || text.contains("config: does not exist") {
            return missing
        }
        if text.contains("not found in snapshot") || text.contains("cannot dump file") {
            return failure(.pathNotFound, "\(quotedName): the path does not exist in the snapshot.", detail: detail)
        }
        if text.contains("no matching id found") {
            return failure(.snapshotNotFound, "\(quotedName) has no such snapshot of host \(context.hostname).", detail: detail)
        }
        let reason = lines.last(where: { $0.hasPrefix("Fatal:") }).map { String($0.dropFirst("Fatal:".count)).trimmingCharacters(in: .whitespaces) }
            ?? lines.last
            ?? "it ended with \(result)"
        return failure(.failed, "\(quotedName): restic \(operation) failed: \(reason)", detail: detail)
    }

    /// The bound on what a failed `password_command`'s stderr adds to the job's error: its last lines, each
    /// cut short, so that a command that floods stderr cannot flood the record.
    static let passwordCommandStderrLines = 5
    static let passwordCommandStderrLineLength = 200

    /// restic could not get a password from `password_command`: the command failed (restic 0.14 writes
    /// `Resolving password failed: exit status 3` after the command's own stderr) or printed nothing. The
    /// command's stdout never reaches us (restic reads it), so only its stderr can explain, bounded.
    func passwordCommandFailure(_ lines: [String]) -> DriverError? {
        let marker = "resolving password failed:"
        if let index = lines.lastIndex(where: { $0.lowercased().contains(marker) }) {
            let line = lines[index]
            let start = line.lowercased().range(of: marker)!.upperBound
            let offset = line.lowercased().distance(from: line.lowercased().startIndex, to: start)
            let reason = String(line.dropFirst(offset)).trimmingCharacters(in: .whitespaces)
            let stderr = lines[..<index].suffix(Self.passwordCommandStderrLines).map { line in
                line.count > Self.passwordCommandStderrLineLength ? line.prefix(Self.passwordCommandStderrLineLength) + "…" : line
            }
            var message = "\(quotedName): password_command failed (\(reason))"
            message += stderr.isEmpty ? " and wrote nothing on stderr." : "; it said: \(stderr.joined(separator: " / "))"
            return failure(.invalidRequest, message, detail: stderr.joined(separator: "\n"))
        }
        let text = lines.joined(separator: "\n").lowercased()
        if text.contains("empty password") || text.contains("reading repository password from stdin") {
            return failure(.invalidRequest, "\(quotedName): password_command printed no password (restic reads the password from its standard output).")
        }
        return nil
    }
}
