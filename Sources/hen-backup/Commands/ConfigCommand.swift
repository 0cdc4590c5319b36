import ArgumentParser
import Foundation
import HenDrivers
import HenEngine
import Logging

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration file.",
        subcommands: [Check.self, Reload.self]
    )

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reload",
            abstract: "Make the running daemon read its configuration file again (as SIGHUP does).",
            discussion: "A file with errors is refused with every error, and the daemon keeps its running configuration."
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            guard let daemon = try await Daemon.connect(options, notice: false) else {
                printError("No daemon answers at api.listen, so there is none to reload: a daemon reads the file when it starts.")
                throw ExitCode.failure
            }
            let data = try await Daemon.report { try await daemon.send("POST", "/api/v1/config/reload") }
            if options.json {
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let result = try await Daemon.report { try daemon.decode(ReloadResult.self, data) }
            print("Reloaded \(result.source): \(result.changed.isEmpty ? "nothing changed" : "changed " + result.changed.joined(separator: ", ")).")
            if !result.restartRequired.isEmpty {
                print("Takes effect at the next restart: \(result.restartRequired.joined(separator: ", ")).")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the configuration: every error at once, or a summary with the next runs."
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            guard options.json else {
                let (configuration, drivers) = try await CommandContext.loadConfiguration(options)
                print(ConfigurationSummary.render(configuration, now: Date()), terminator: "")
                let programs = await Self.verifyPrograms(configuration, drivers: drivers)
                if !programs.found.isEmpty { print("Programs: \(programs.found.joined(separator: ", "))") }
                for failure in programs.failures { printError(failure) }
                if !programs.failures.isEmpty { throw ExitCode.failure }
                return
            }
            // For scripts and editors: the verdict, and every issue with its place.
            let environment = ProcessInfo.processInfo.environment
            do {
                let path = try ConfigurationLocator.resolve(explicit: options.config, environment: environment)
                let loader = await ConfigurationLoader(environment: environment).addingPlugins(forFile: path)
                let configuration = try loader.load(path: path)
                let programs = await Self.verifyPrograms(configuration, drivers: loader.drivers)
                try JSONOutput.print(Verdict(
                    valid: programs.failures.isEmpty, file: configuration.sourcePath, errors: [], warnings: configuration.warnings,
                    backups: configuration.backups.map(\.name), repositories: configuration.repositories.keys.sorted(),
                    programs: programs.found, programErrors: programs.failures
                ))
                if !programs.failures.isEmpty { throw ExitCode.failure }
            } catch let error as ConfigurationError {
                try JSONOutput.print(Verdict(valid: false, file: options.config, errors: error.issues, warnings: [], backups: [], repositories: [], programs: [], programErrors: []))
                throw ExitCode.failure
            }
        }

        /// A configuration is only as good as the engines it names: restic must run and be 0.14 or newer, a
        /// plugin must find its programs.
        static func verifyPrograms(_ configuration: Configuration, drivers: DriverRegistry) async -> (found: [String], failures: [String]) {
            await configuration.verifyDriverPrograms(registry: drivers, logger: Logger(label: "hen.cli"))
        }

        struct Verdict: Encodable {
            var valid: Bool
            var file: String?
            var errors: [ConfigurationIssue]
            var warnings: [ConfigurationIssue]
            var backups: [String]
            var repositories: [String]
            /// The drivers' programs as found ("restic 0.14.0 (/usr/bin/restic)").
            var programs: [String]
            /// One sentence per driver whose program cannot be run.
            var programErrors: [String]
        }
    }
}
