import ArgumentParser
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: $HEN_CONFIG, ./config.yml, /etc/hen-backup/config.yml).")
    var config: String?

    @Flag(name: .long, help: "Print JSON for scripts instead of text for people.")
    var json = false

    @Option(name: .long, help: "Log format on stderr: json or text (default: text on a terminal, json otherwise).")
    var logFormat: LogFormat?

    @Flag(name: .long, help: "Run in this process, even when a daemon is running.")
    var local = false

    @Option(name: .long, help: "Talk to the daemon at this URL.")
    var remote: String?

    @Option(name: .long, help: "API token for --remote (default: $HEN_TOKEN).")
    var token: String?
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case json, text
}
