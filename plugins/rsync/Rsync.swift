import Foundation
import HenPluginProtocol
import HenProcess
import Synchronization

/// Runs rsync, and the few plain commands around it (mkdir, mv, rm, find, cat, tar), for one request. A
/// local repository runs them with `/bin/sh`; a remote one (`user@host:/path`) runs the same shell scripts
/// there over ssh, so both take one code path. Scripts are constant text: every variable part (paths,
/// names) is a positional argument, quoted for the remote shell. Cancellation is HenProcess's SIGINT and
/// drain (to the whole process group, as a terminal's Ctrl-C would).
struct Rsync: PluginEngine {
    static let description = DriverDescription(
        name: "rsync",
        capabilities: [.bandwidthLimits, .deduplication],
        password: .none,
        location: .init(remotePrefixes: [], hostPaths: true),
        keys: [.env, .limits]
    )

    let request: PluginRequest
    let repository: PluginRequest.Repository
    let output: PluginMain.Output
    /// `user@host` of a remote repository; nil for a local one.
    let remote: String?
    /// The repository's directory (on the remote side for a remote one; relative there means below the
    /// login's home).
    let root: String
    let rsyncExecutable: String
    /// The remote shell: `RSYNC_RSH` from the repository's `env` (split at spaces, as rsync does for simple
    /// values), else `ssh`; always non-interactive.
    let remoteShell: [String]

    /// The file at the repository's top that makes a directory a repository of this driver.
    static let marker = "hen-rsync.json"

    init(_ request: PluginRequest, output: PluginMain.Output) throws(DriverError) {
        self.request = request
        self.repository = try request.checkedRepository()
        self.output = output
        (remote, root) = Self.split(self.repository.location)
        guard !root.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \"\(self.repository.name)\": the location \(self.repository.location) names no directory.")
        }
        rsyncExecutable = request.executables["rsync"] ?? "rsync"
        let shell = self.repository.environment["RSYNC_RSH"].map { $0.split(separator: " ").map(String.init) } ?? []
        remoteShell = (shell.isEmpty ? [request.executables["ssh"] ?? "ssh"] : shell) + ["-o", "BatchMode=yes"]
    }

    /// `user@host:/path` as (`user@host`, `/path`); a local path as (nil, path).
    static func split(_ location: String) -> (remote: String?, path: String) {
        guard !location.hasPrefix("/"), let colon = location.firstIndex(of: ":"), !location[..<colon].contains("/"), colon != location.startIndex else {
            return (nil, location)
        }
        return (String(location[..<colon]), String(location[location.index(after: colon)...]))
    }

    var environment: [String: String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME", "TMPDIR", "USER", "LANG", "LC_ALL"])
        for (name, value) in repository.environment { environment[name] = value }
        // rsync's and find's times in UTC; the seconds since 1970 are the same anywhere.
        environment["TZ"] = "UTC"
        return environment
    }

    var secrets: [String] { Array(repository.environment.values).filter { $0.count >= 4 } }

    /// The directory of `host`'s snapshots below `snapshots/`: the host name with anything but letters,
    /// digits, `-`, `_` and inner dots written as `%XX`, so that no host name can leave its directory.
    static func hostDirectory(_ host: String) -> String {
        var name = ""
        for (index, byte) in host.utf8.enumerated() {
            let character = Character(UnicodeScalar(byte))
            if character.isASCII, character.isLetter || character.isNumber || character == "-" || character == "_" || (character == "." && index > 0) {
                name.append(character)
            } else {
                name += String(format: "%%%02X", byte)
            }
        }
        return name
    }

    /// `snapshots/<host>` below the repository's root, relative to it.
    var hostPath: String { "snapshots/" + Self.hostDirectory(request.host) }

    /// A path on the repository's side as rsync names it: `user@host:path` or the local path.
    func rsyncPath(_ relative: String) -> String {
        let path = root.hasSuffix("/") ? root + relative : root + "/" + relative
        return remote.map { "\($0):\(path)" } ?? path
    }

    /// Single quotes for the remote shell.
    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The process that runs `script` with `sh -c` and `arguments` as `$1…`, locally or on the remote side.
    /// The script starts in the repository's root when `inRoot` (exit 3 when it does not exist).
    func shellProcess(_ script: String, _ arguments: [String], inRoot: Bool = true) -> ChildProcessRequest {
        let body = inRoot ? "cd -- \"$0\" 2>/dev/null || exit 3\n" + script : script
        let all = [root] + arguments
        if let remote {
            let command = (["sh", "-c", body] + all).map(Self.quote).joined(separator: " ")
            return ChildProcessRequest(
                executable: remoteShell[0], arguments: Array(remoteShell.dropFirst()) + ["--", remote, command],
                environment: environment, secrets: secrets, terminationGrace: .seconds(30), interruptsProcessGroup: true
            )
        }
        return ChildProcessRequest(
            executable: "/bin/sh", arguments: ["-c", body] + all,
            environment: environment, secrets: secrets, terminationGrace: .seconds(30), interruptsProcessGroup: true
        )
    }

    struct Outcome: Sendable {
        var result: ChildProcessResult
        var stderr: [String]
    }

    /// Runs a script (see ``shellProcess(_:_:inRoot:)``), its stdout lines to `onStdout`.
    func shell(_ script: String, _ arguments: [String] = [], inRoot: Bool = true, input: [UInt8]? = nil, onStdout: @escaping @Sendable (String) -> Void = { _ in }) async throws(DriverError) -> Outcome {
        var process = shellProcess(script, arguments, inRoot: inRoot)
        process.standardInput = input
        return try await execute(process, what: "a command") { line in
            if case .stdout(let text) = line { onStdout(text) }
        }
    }

    /// Runs a script whose stdout is NUL-separated fields, handed to `onField` one by one as they arrive.
    func fields(_ script: String, _ arguments: [String] = [], onField: @escaping @Sendable (String) -> Void) async throws(DriverError) -> Outcome {
        let process = shellProcess(script, arguments)
        let pending = Mutex<[UInt8]>([])
        let stderr = Mutex<[String]>([])
        let result: ChildProcessResult
        do {
            result = try await ChildProcess.run(process, onStdout: { chunk in
                let fields: [String] = pending.withLock { buffer in
                    buffer += chunk
                    var found: [String] = []
                    while let end = buffer.firstIndex(of: 0) {
                        found.append(String(decoding: buffer[..<end], as: UTF8.self))
                        buffer.removeSubrange(...end)
                    }
                    return found
                }
                fields.forEach(onField)
                return true
            }, onStderrLine: { line in stderr.withLock { $0.append(line) } })
        } catch {
            throw launchFailure(error, program: process.executable)
        }
        return try interrupted(Outcome(result: result, stderr: stderr.withLock { $0 }), what: "a command")
    }

    /// Runs `rsync arguments`, its stdout lines to `onStdout`, its stderr collected.
    func rsync(_ arguments: [String], onStdout: @escaping @Sendable (String) -> Void) async throws(DriverError) -> Outcome {
        var shell = ""
        if remote != nil { shell = remoteShell.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ") }
        let process = ChildProcessRequest(
            executable: rsyncExecutable, arguments: (remote != nil ? ["-e", shell] : []) + arguments,
            environment: environment, secrets: secrets, terminationGrace: .seconds(30), interruptsProcessGroup: true
        )
        return try await execute(process, what: "rsync") { line in
            if case .stdout(let text) = line { onStdout(text) }
        }
    }

    private func execute(_ process: ChildProcessRequest, what: String, onLine: @escaping @Sendable (ChildOutputLine) -> Void) async throws(DriverError) -> Outcome {
        let stderr = Mutex<[String]>([])
        let result: ChildProcessResult
        do {
            result = try await ChildProcess.run(process) { line in
                if case .stderr(let text) = line { stderr.withLock { $0.append(text) } }
                onLine(line)
            }
        } catch {
            throw launchFailure(error, program: process.executable)
        }
        return try interrupted(Outcome(result: result, stderr: stderr.withLock { $0 }), what: what)
    }

    private func launchFailure(_ error: ChildProcessError, program: String) -> DriverError {
        let hint = program == rsyncExecutable ? "install rsync, or set executables.rsync" : remote != nil ? "install openssh-client, or set executables.ssh" : "the system has no /bin/sh"
        return DriverError(error.code == .executableNotFound ? .binaryMissing : .failed, "Repository \"\(repository.name)\": \(program) could not be run: \(error.message) (\(hint)).")
    }

    private func interrupted(_ outcome: Outcome, what: String) throws(DriverError) -> Outcome {
        if outcome.result.wasInterrupted || outcome.result.exitCode == 20 && what == "rsync" {
            throw DriverError(.cancelled, "Repository \"\(repository.name)\": \(what) was stopped.")
        }
        return outcome
    }

    /// A failed command as a driver error: ssh's 255 means the remote side was not reached; 127, a program
    /// missing there; 3 (our scripts' code), no repository.
    func failure(_ outcome: Outcome, doing: String) -> DriverError {
        let said = outcome.stderr.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "\(outcome.result)"
        let detail = outcome.stderr.suffix(5).joined(separator: "\n")
        switch outcome.result.exitCode {
        case 3:
            return DriverError(.repositoryMissing, "Repository \"\(repository.name)\": \(repository.location) is not an rsync repository (initialize it first).", detail: detail)
        case 255 where remote != nil, 12 where remote != nil, 10 where remote != nil, 5 where remote != nil:
            return DriverError(.backendUnreachable, "Repository \"\(repository.name)\": \(remote ?? "") could not be reached to \(doing): \(said)", detail: detail)
        case 127:
            return DriverError(.binaryMissing, "Repository \"\(repository.name)\": a program is missing \(remote != nil ? "on \(remote ?? "")" : "here") to \(doing) (rsync, find, tar and a POSIX shell are needed): \(said)", detail: detail)
        default:
            return DriverError(.failed, "Repository \"\(repository.name)\": could not \(doing): \(said)", detail: detail)
        }
    }

    /// Runs a script and requires exit 0.
    @discardableResult
    func succeed(_ script: String, _ arguments: [String] = [], doing: String, inRoot: Bool = true, input: [UInt8]? = nil, onStdout: @escaping @Sendable (String) -> Void = { _ in }) async throws(DriverError) -> Outcome {
        let outcome = try await shell(script, arguments, inRoot: inRoot, input: input, onStdout: onStdout)
        guard outcome.result.exitCode == 0 else { throw failure(outcome, doing: doing) }
        return outcome
    }

    /// `--bwlimit` for `bytesPerSecond` (rsync counts in units of 1024 bytes per second).
    static func bandwidthLimit(_ bytesPerSecond: Int?) -> [String] {
        guard let bytesPerSecond, bytesPerSecond > 0 else { return [] }
        return ["--bwlimit=\(max(1, bytesPerSecond / 1024))"]
    }
}
