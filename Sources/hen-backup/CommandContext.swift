import ArgumentParser
import Foundation
import HenDrivers
import HenEngine
import Logging
import Synchronization

/// What every command starts from: the configuration it names, logging set up, and the engine.
struct CommandContext {
    let options: GlobalOptions
    var configuration: Configuration
    let logger: Logger
    /// The configuration's secrets: redacted from every log line of this process and, through the engine,
    /// from job records, the store and the API's answers.
    let secrets: ConfigurationSecrets
    /// The built-in drivers and the plugins found for this configuration.
    let drivers: DriverRegistry

    /// Loads and validates the configuration; prints every error and exits 1 when it is invalid.
    static func load(_ options: GlobalOptions, component: String = "cli") async throws -> CommandContext {
        let (configuration, drivers) = try await loadConfiguration(options)
        let secrets = ConfigurationSecrets(configuration)
        printedSecrets.withLock { $0 = secrets }
        bootstrapLogging(options, configuration: configuration, secrets: secrets)
        return CommandContext(options: options, configuration: configuration, logger: Logger(label: "hen.\(component)"), secrets: secrets, drivers: drivers)
    }

    /// The configuration, and the drivers it may use (plugins included).
    static func loadConfiguration(_ options: GlobalOptions) async throws -> (Configuration, DriverRegistry) {
        let environment = ProcessInfo.processInfo.environment
        do {
            let path = try ConfigurationLocator.resolve(explicit: options.config, environment: environment)
            let loader = await ConfigurationLoader(environment: environment).addingPlugins(forFile: path)
            return (try loader.load(path: path), loader.drivers)
        } catch let error as ConfigurationError {
            printError(error.description)
            throw ExitCode.failure
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    private static let bootstrapped = BootstrapOnce()

    static func bootstrapLogging(_ options: GlobalOptions, configuration: Configuration?, secrets: ConfigurationSecrets? = nil) {
        let format: HenLogHandler.Format = switch options.logFormat {
        case .json: .json
        case .text: .text
        case nil: HenLogHandler.defaultFormat
        }
        let level = configuration.flatMap { Logger.Level(rawValue: $0.log.level) } ?? .info
        var levels: [String: Logger.Level] = [:]
        for (component, name) in configuration?.log.levels ?? [:] {
            if let value = Logger.Level(rawValue: name) { levels[component] = value }
        }
        bootstrapped.run { HenLogHandler.bootstrap(format: format, level: level, levels: levels, secrets: secrets) }
    }

    /// The engine for this command; a daemon's (the default) restores only below `restore.allowed_targets`.
    /// - Parameter role: for a command that runs jobs and so writes the store ("daemon", "backup job"): it
    ///   claims the data directory first and stops with one sentence while another process holds it.
    func openEngine(exclusiveAs role: String? = nil, restoreScope: RestoreScope = .allowedTargets) async throws -> Engine {
        do {
            return try await Engine.open(configuration: configuration, registry: drivers, logger: Logger(label: "hen.engine"), exclusiveAs: role, restoreScope: restoreScope, secrets: secrets)
        } catch let error as EngineError where error.code == .dataDirectoryInUse {
            printError(error.message)
            throw ExitCode.failure
        } catch {
            printError("Cannot open the job store in \(configuration.dataDirectory): \(error)")
            throw ExitCode.failure
        }
    }
}

/// LoggingSystem.bootstrap may run once per process.
final class BootstrapOnce: Sendable {
    private let done = Mutex(false)
    func run(_ body: () -> Void) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        if first { body() }
    }
}

/// The configuration's secrets once a command has loaded it: what the CLI prints itself (an error it
/// relays, a refusal) goes through the same redactor as its log lines and the daemon's answers.
private let printedSecrets = Mutex<ConfigurationSecrets?>(nil)

func printError(_ message: String) {
    let redacted = printedSecrets.withLock { $0 }?.redact(message) ?? message
    FileHandle.standardError.write(Data((redacted + "\n").utf8))
}
