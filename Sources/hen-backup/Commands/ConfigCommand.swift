import ArgumentParser
import Foundation
import HenDrivers
import HenEngine

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration file.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the configuration: every error at once, or a summary with the next runs."
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            guard options.json else {
                let configuration = try CommandContext.loadConfiguration(options)
                print(ConfigurationSummary.render(configuration, now: Date()), terminator: "")
                return
            }
            // For scripts and editors: the verdict, and every issue with its place.
            let environment = ProcessInfo.processInfo.environment
            do {
                let path = try ConfigurationLocator.resolve(explicit: options.config, environment: environment)
                let configuration = try ConfigurationLoader(environment: environment, knownDrivers: DriverRegistry.standard.names).load(path: path)
                try JSONOutput.print(Verdict(
                    valid: true, file: configuration.sourcePath, errors: [], warnings: configuration.warnings,
                    backups: configuration.backups.map(\.name), repositories: configuration.repositories.keys.sorted()
                ))
            } catch let error as ConfigurationError {
                try JSONOutput.print(Verdict(valid: false, file: options.config, errors: error.issues, warnings: [], backups: [], repositories: []))
                throw ExitCode.failure
            }
        }

        struct Verdict: Encodable {
            var valid: Bool
            var file: String?
            var errors: [ConfigurationIssue]
            var warnings: [ConfigurationIssue]
            var backups: [String]
            var repositories: [String]
        }
    }
}
