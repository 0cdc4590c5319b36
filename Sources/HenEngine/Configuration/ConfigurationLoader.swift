import Foundation
import HenDrivers
import HenProcess
import Yams

/// Reads a YAML configuration file into a ``Configuration``, reporting every problem at once with its
/// `file:line:column` and key path.
///
/// The loader is pure apart from the file system: the environment (for `${VAR}`), the driver names, the
/// default hostname and time zone are injected, so tests and the daemon build it the same way.
public struct ConfigurationLoader: Sendable {
    /// Variables for `${VAR}` substitution.
    public var environment: [String: String]
    /// Drivers a repository may name in `driver:`, with what each accepts.
    public var drivers: DriverRegistry
    /// Plugins found on disk that could not describe themselves, by driver name: why, in one sentence.
    public var pluginProblems: [String: String] = [:]
    /// Used when the file sets no `hostname`.
    public var defaultHostname: String
    /// Used when the file sets no `timezone`.
    public var defaultTimeZone: TimeZone

    /// Where the job store lives when `data_dir` is not set.
    public static let defaultDataDirectory = "/var/lib/hen-backup"

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        drivers: DriverRegistry = .standard,
        defaultHostname: String = ConfigurationLoader.machineHostname(),
        defaultTimeZone: TimeZone = .current
    ) {
        self.environment = environment
        self.drivers = drivers
        self.defaultHostname = defaultHostname
        self.defaultTimeZone = defaultTimeZone
    }

    /// The machine's hostname (`gethostname`).
    public static func machineHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Loads the file at `path`. Issues name the file as `path` was written; relative paths in the file
    /// resolve against its directory.
    public func load(path: String) throws(ConfigurationError) -> Configuration {
        let absolute = Self.absolute(path)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            let reason = FileManager.default.fileExists(atPath: absolute) ? "cannot be read" : "does not exist"
            throw ConfigurationError(issues: [ConfigurationIssue(file: path, line: 1, column: 1, keyPath: "", message: "the configuration file \(absolute) \(reason)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let (line, column) = Self.firstInvalidUTF8(in: data)
            throw ConfigurationError(issues: [ConfigurationIssue(file: path, line: line, column: column, keyPath: "", message: "the configuration file is not UTF-8 text (an invalid byte here)")])
        }
        return try load(yaml: text, file: path, sourcePath: absolute)
    }

    /// Loads YAML text as if read from `sourcePath` (whose directory anchors relative paths).
    public func load(yaml: String, file: String, sourcePath: String) throws(ConfigurationError) -> Configuration {
        let root: Yams.Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(issues: [ConfigurationIssue(file: file, line: 1, column: 1, keyPath: "", message: "the configuration is empty (it needs at least one backup)")])
            }
            root = node
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(issues: [Self.syntaxIssue(error, file: file)])
        }
        let directory = (Self.absolute(sourcePath) as NSString).deletingLastPathComponent
        let reader = ConfigurationReader(file: file, directory: directory, environment: environment)
        reader.pluginProblems = pluginProblems
        let configuration = reader.readConfiguration(ConfigNode(node: root, path: ""), loader: self, sourcePath: Self.absolute(sourcePath))
        guard reader.issues.isEmpty, var configuration else {
            throw ConfigurationError(issues: reader.issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        configuration.warnings = reader.warnings
        return configuration
    }

    /// The line and column (1-based, in characters) of the first byte that is not UTF-8.
    static func firstInvalidUTF8(in data: Data) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var iterator = data.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput, .error:
                return (line, column)
            }
        }
    }

    static func absolute(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (absolute as NSString).standardizingPath
    }

    /// A YAML syntax error as an issue at its line and column.
    static func syntaxIssue(_ error: any Error, file: String) -> ConfigurationIssue {
        guard let yamlError = error as? YamlError else {
            return ConfigurationIssue(file: file, line: 1, column: 1, keyPath: "", message: "YAML error: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            return ConfigurationIssue(file: file, line: mark.line, column: mark.column, keyPath: "", message: "YAML syntax error: \(problem)\(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigurationIssue(file: file, line: context.mark.line, column: context.mark.column, keyPath: "", message: "the key \(names) appears twice in one mapping")
        default:
            return ConfigurationIssue(file: file, line: 1, column: 1, keyPath: "", message: "YAML error: \(yamlError)")
        }
    }
}
