import ArgumentParser
import Foundation
import HenEngine

/// Where a command runs: at the daemon that answers at `api.listen`, at `--remote URL`, or in this process
/// (`--local`, or with a one-line notice when no daemon answers).
enum Daemon {
    /// The daemon to talk to, or nil to run in this process (`notice`: say so on stderr when none answers).
    static func connect(_ options: GlobalOptions, notice: Bool = true) async throws -> DaemonClient? {
        if options.local {
            if options.remote != nil {
                printError("--local and --remote exclude each other.")
                throw ExitCode.validationFailure
            }
            return nil
        }
        let environmentToken = ProcessInfo.processInfo.environment["HEN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let remote = options.remote {
            guard let url = URL(string: remote), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                printError("--remote \(remote) is not an http:// or https:// URL (such as http://backup-host:8420).")
                throw ExitCode.validationFailure
            }
            return DaemonClient(baseURL: url, token: options.token ?? environmentToken)
        }
        let context = try await CommandContext.load(options)
        let configuration = context.configuration
        guard let url = DaemonClient.url(listen: configuration.api.listen) else { return nil }
        // The config file's first token serves whoever can read the file (the same user as the daemon).
        let token = options.token ?? environmentToken ?? configuration.api.auth.tokens.first?.value.value
        let client = DaemonClient(baseURL: url, token: token, timeZone: configuration.timeZone)
        if await client.probe() != nil { return client }
        if notice { printError("No daemon answers at \(url.absoluteString); running in this process (--local skips this check).") }
        return nil
    }

    /// Runs `body`; a refusal from the daemon is printed as its sentence and exits 1.
    static func report<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as DaemonClient.Failure {
            printError(failure.message)
            throw ExitCode.failure
        }
    }
}
