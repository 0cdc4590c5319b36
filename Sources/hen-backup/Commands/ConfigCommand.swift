import ArgumentParser
import Foundation
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
            let configuration = try CommandContext.loadConfiguration(options)
            print(ConfigurationSummary.render(configuration, now: Date()), terminator: "")
        }
    }
}
