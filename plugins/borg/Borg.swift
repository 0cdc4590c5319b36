import Foundation
import HenPluginProtocol
import HenProcess
import Synchronization

/// Runs `borg` for one request: repository, passphrase and caches through the environment (never argv),
/// `--log-json` on every command so that errors carry borg's `msgid`, and SIGINT-and-drain on cancellation
/// (HenProcess).
struct Borg: PluginEngine {
    static let description = DriverDescription(
        name: "borg",
        capabilities: [.encrypted, .deduplication, .readDataSubset],
        password: .required,
        location: .init(remotePrefixes: ["ssh://"], hostPaths: true),
        keys: [.env]
    )

    let request: PluginRequest
    let repository: PluginRequest.Repository
    let output: PluginMain.Output
    let executable: String

    init(_ request: PluginRequest, output: PluginMain.Output) throws(DriverError) {
        self.request = request
        self.repository = try request.checkedRepository()
        self.output = output
        self.executable = request.executables["borg"] ?? "borg"
    }

    var environment: [String: String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME", "TMPDIR", "USER", "LANG", "LC_ALL"])
        for (name, value) in repository.environment { environment[name] = value }
        environment["BORG_REPO"] = repository.location
        environment["BORG_PASSPHRASE"] = repository.password ?? ""
        // Times in borg's JSON have no zone: make them UTC.
        environment["TZ"] = "UTC"
        if let cache = request.cacheDirectory {
            environment["BORG_BASE_DIR"] = cache
        }
        // Never ask a question on a terminal that is not there.
        environment["BORG_RELOCATED_REPO_ACCESS_IS_OK"] = "yes"
        environment["BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK"] = "no"
        environment["BORG_CHECK_I_KNOW_WHAT_I_AM_DOING"] = "NO"
        environment["BORG_DELETE_I_KNOW_WHAT_I_AM_DOING"] = "NO"
        return environment
    }

    struct Outcome: Sendable {
        var result: ChildProcessResult
        /// borg's error messages (`log_message` at ERROR or CRITICAL), with their msgid.
        var errors: [(msgid: String?, message: String)]
    }

    /// Runs `borg arguments`; stdout lines go to `onStdout`, stderr JSON lines are parsed: progress to
    /// `onProgress`, warnings to the output, errors collected. Throws `.cancelled` when interrupted.
    func run(
        _ arguments: [String],
        workingDirectory: String? = nil,
        warningsAsLog: Bool = false,
        onStdout: @escaping @Sendable (String) -> Void = { _ in },
        onProgress: @escaping @Sendable ([String: Any]) -> Void = { _ in }
    ) async throws(DriverError) -> Outcome {
        let errors = Mutex<[(msgid: String?, message: String)]>([])
        let output = self.output
        let process = ChildProcessRequest(
            executable: executable,
            arguments: [arguments[0], "--log-json"] + arguments.dropFirst(),
            environment: environment,
            workingDirectory: workingDirectory,
            secrets: [repository.password].compactMap { $0 } + Array(repository.environment.values),
            terminationGrace: .seconds(30)
        )
        let result: ChildProcessResult
        do {
            result = try await ChildProcess.run(process) { line in
                switch line {
                case .stdout(let text): onStdout(text)
                case .stderr(let text):
                    guard let data = text.data(using: .utf8),
                        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                        let type = object["type"] as? String
                    else {
                        if !text.isEmpty { output.log(.info, text) }
                        return
                    }
                    switch type {
                    case "log_message":
                        let message = (object["message"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                        switch object["levelname"] as? String {
                        case "ERROR", "CRITICAL": errors.withLock { $0.append((object["msgid"] as? String, message)) }
                        case "WARNING": if warningsAsLog { output.log(.info, message) } else { output.warning(message) }
                        default: output.log(.debug, message)
                        }
                    case "archive_progress", "progress_percent":
                        onProgress(object)
                    default:
                        break
                    }
                }
            }
        } catch {
            throw DriverError(error.code == .executableNotFound ? .binaryMissing : .failed, "borg could not be run: \(error.message) (install borgbackup, or set executables.borg).")
        }
        if result.wasInterrupted { throw DriverError(.cancelled, "Repository \"\(repository.name)\": borg \(arguments[0]) was stopped.") }
        return Outcome(result: result, errors: errors.withLock { $0 })
    }

    /// Runs and requires success (exit 0, or 1 = warnings where `warningsAreSuccess`).
    @discardableResult
    func succeed(_ arguments: [String], workingDirectory: String? = nil, warningsAreSuccess: Bool = false, onStdout: @escaping @Sendable (String) -> Void = { _ in }, onProgress: @escaping @Sendable ([String: Any]) -> Void = { _ in }) async throws(DriverError) -> Outcome {
        let outcome = try await run(arguments, workingDirectory: workingDirectory, onStdout: onStdout, onProgress: onProgress)
        if outcome.result.exitCode == 0 || (warningsAreSuccess && outcome.result.exitCode == 1) { return outcome }
        throw classify(outcome, command: arguments[0])
    }

    /// borg's error as a driver error, by its msgid.
    func classify(_ outcome: Outcome, command: String) -> DriverError {
        let first = outcome.errors.first
        let message = first?.message ?? outcome.result.stderrTail.last ?? "borg \(command) ended with \(outcome.result)"
        let code: DriverError.Code
        switch first?.msgid ?? "" {
        case "PassphraseWrong", "PasscommandFailure", "NoPassphraseFailure": code = .wrongPassword
        case "Repository.DoesNotExist", "Repository.InvalidRepository", "Repository.ParentPathDoesNotExist": code = .repositoryMissing
        case "LockTimeout", "LockFailed", "LockError": code = .repositoryLocked
        case "ConnectionClosed", "ConnectionClosedWithHint", "RemoteRepository.RPCServerOutdated": code = .backendUnreachable
        case "Archive.DoesNotExist": code = .snapshotNotFound
        default: code = .failed
        }
        return DriverError(code, "Repository \"\(repository.name)\": borg \(command) failed: \(message)", detail: outcome.result.stderrTail.suffix(5).joined(separator: "\n"))
    }
}
