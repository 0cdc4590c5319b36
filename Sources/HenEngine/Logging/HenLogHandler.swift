import Foundation
import HenProcess
import Logging
import Synchronization

/// Writes one line per log entry: JSON for log collectors, or text for a person at a terminal.
///
/// A JSON line is `{"time":…,"level":…,"message":…,"component":…, …metadata}`; nested metadata becomes
/// nested JSON. The component is the `component` metadata value when a logger carries one (a job's driver
/// and hook loggers are copies of the job's logger, so they keep its identity), otherwise the logger label
/// without its `hen.` prefix (`engine`, `driver`, `hooks`, `api`); each component's level can be set apart
/// from the default (`log.levels` in the configuration).
public struct HenLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case json, text
    }

    public var metadata: Logger.Metadata = [:]
    /// swift-log drops lines below this before they reach the handler, so it lets through what any
    /// component may want; `log(event:)` filters per component. Setting it sets this logger's own level.
    public var logLevel: Logger.Level {
        get { ([ownLevel, defaultLevel] + levels.values).min() ?? ownLevel }
        set { ownLevel = newValue }
    }
    public let label: String
    private let format: Format
    private let output: LogOutput
    /// Levels of components other than this logger's own (`driver: debug`), applied per line.
    private let levels: [String: Logger.Level]
    private var ownLevel: Logger.Level
    /// `log.level`: for lines of a component without a level of its own, whichever logger they go through
    /// (a driver line on a copy of the engine's logger is not filtered by the engine's level).
    private let defaultLevel: Logger.Level
    /// The configuration's secrets, redacted from every line (message and metadata) before it is written.
    private let secrets: ConfigurationSecrets?

    /// - Parameters:
    ///   - levels: per-component levels; a line whose `component` metadata names one of them is filtered
    ///     by that level instead of `level`.
    ///   - secrets: redacted from every line; the engine keeps it up to date across reloads.
    public init(label: String, format: Format, level: Logger.Level, levels: [String: Logger.Level] = [:], output: LogOutput = .standardError, secrets: ConfigurationSecrets? = nil) {
        self.label = label
        self.secrets = secrets
        self.format = format
        self.ownLevel = levels[Self.component(of: label)] ?? level
        self.defaultLevel = level
        self.levels = levels
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The component a logger label names: `hen.driver` → `driver`.
    public static func component(of label: String) -> String {
        label.hasPrefix("hen.") ? String(label.dropFirst(4)) : label
    }

    /// Sets up swift-log for the whole process. `levels` maps a component to its level.
    public static func bootstrap(format: Format, level: Logger.Level, levels: [String: Logger.Level] = [:], output: LogOutput = .standardError, secrets: ConfigurationSecrets? = nil) {
        LoggingSystem.bootstrap { label in
            HenLogHandler(label: label, format: format, level: level, levels: levels, output: output, secrets: secrets)
        }
    }

    /// Text on a terminal, JSON otherwise.
    public static var defaultFormat: Format {
        isatty(STDERR_FILENO) == 1 ? .text : .json
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        let component = Self.component(of: label, metadata: merged)
        let threshold = levels[component] ?? (component == Self.component(of: label) ? ownLevel : defaultLevel)
        guard event.level >= threshold else { return }
        let line: String
        switch format {
        case .json: line = jsonLine(level: event.level, message: "\(event.message)", component: component, metadata: merged)
        case .text: line = textLine(level: event.level, message: "\(event.message)", component: component, metadata: merged)
        }
        // The whole line: a secret may sit in the message or in any metadata value (the JSON forms of each
        // secret are looked for too).
        output.write((secrets?.redact(line) ?? line) + "\n")
    }

    /// The component of a line: its `component` metadata, else the logger's label.
    static func component(of label: String, metadata: Logger.Metadata) -> String {
        if case .string(let name)? = metadata["component"] { return name }
        if case .stringConvertible(let name)? = metadata["component"] { return name.description }
        return component(of: label)
    }

    private func jsonLine(level: Logger.Level, message: String, component: String, metadata: Logger.Metadata) -> String {
        var text = "{\"time\":" + JSONText.quote(Self.timestamp(Date()))
        text += ",\"level\":" + JSONText.quote(level.rawValue)
        text += ",\"message\":" + JSONText.quote(message)
        text += ",\"component\":" + JSONText.quote(component)
        for key in metadata.keys.sorted() where !["time", "level", "message", "component"].contains(key) {
            text += "," + JSONText.quote(key) + ":" + JSONMetadata.value(metadata[key]!)
        }
        return text + "}"
    }

    private func textLine(level: Logger.Level, message: String, component: String, metadata: Logger.Metadata) -> String {
        var text = Self.timestamp(Date()) + " " + level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)
        text += " [" + component + "] " + message
        let keys = metadata.keys.sorted().filter { $0 != "component" }
        if !keys.isEmpty {
            text += " " + keys.map { "\($0)=\(metadata[$0]!)" }.joined(separator: " ")
        }
        return text
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon))
    }
}

/// Where log lines go. Writes are whole lines, never interleaved between threads.
public final class LogOutput: Sendable {
    private let sink: Mutex<(String) -> Void>

    public init(_ write: @escaping @Sendable (String) -> Void) {
        sink = Mutex(write)
    }

    public static let standardError = LogOutput { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    func write(_ line: String) {
        sink.withLock { $0(line) }
    }
}

/// Metadata values as JSON, for the log handler's lines (strings through HenProcess's ``JSONText``).
enum JSONMetadata {
    static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): JSONText.quote(string)
        case .stringConvertible(let convertible): JSONText.quote(convertible.description)
        case .array(let array): "[" + array.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            "{" + dictionary.keys.sorted().map { JSONText.quote($0) + ":" + Self.value(dictionary[$0]!) }.joined(separator: ",") + "}"
        }
    }
}
