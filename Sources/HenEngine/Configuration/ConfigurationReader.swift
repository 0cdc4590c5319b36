import Foundation
import Yams

/// A YAML node together with the key path that leads to it (`backups.pictures.repositories[1]`).
struct ConfigNode {
    var node: Yams.Node
    var path: String

    func child(_ key: String, _ node: Yams.Node) -> ConfigNode {
        ConfigNode(node: node, path: path.isEmpty ? key : "\(path).\(key)")
    }

    func element(_ index: Int, _ node: Yams.Node) -> ConfigNode {
        ConfigNode(node: node, path: "\(path)[\(index)]")
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    var kind: String {
        switch node {
        case .scalar: "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// The entries of one mapping, by key, in the order written, with unknown keys already reported.
struct ConfigFields {
    var entries: [(key: String, keyNode: Yams.Node, value: ConfigNode)]

    subscript(key: String) -> ConfigNode? {
        entries.first { $0.key == key }.flatMap { $0.value.isNull ? nil : $0.value }
    }

    func has(_ key: String) -> Bool { self[key] != nil }
}

/// Walks the YAML tree, turning nodes into values and collecting every problem instead of stopping at the
/// first. Used for one load, on one thread.
final class ConfigurationReader {
    let file: String
    let directory: String
    let environment: [String: String]
    var issues: [ConfigurationIssue] = []
    var warnings: [ConfigurationIssue] = []
    /// Plugins that could not describe themselves, by driver name (``ConfigurationLoader/pluginProblems``).
    var pluginProblems: [String: String] = [:]

    init(file: String, directory: String, environment: [String: String]) {
        self.file = file
        self.directory = directory
        self.environment = environment
    }

    // MARK: Reporting

    func issue(_ node: Yams.Node?, _ path: String, _ message: String) -> ConfigurationIssue {
        ConfigurationIssue(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, keyPath: path, message: message)
    }

    func error(_ at: ConfigNode, _ message: String) {
        issues.append(issue(at.node, at.path, message))
    }

    func error(_ node: Yams.Node?, _ path: String, _ message: String) {
        issues.append(issue(node, path, message))
    }

    func warn(_ at: ConfigNode, _ message: String) {
        warnings.append(issue(at.node, at.path, message))
    }

    // MARK: Structure

    /// The fields of a mapping; unknown keys are reported, with the closest known key as a suggestion.
    func fields(_ at: ConfigNode, allowed: [String]) -> ConfigFields? {
        guard case .mapping(let mapping) = at.node else {
            error(at, "expected a mapping (keys: \(allowed.joined(separator: ", "))), found \(at.kind)")
            return nil
        }
        var entries: [(key: String, keyNode: Yams.Node, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(keyNode, at.path, "a key must be a plain name, found \(ConfigNode(node: keyNode, path: "").kind)")
                continue
            }
            let key = scalar.string
            guard allowed.contains(key) else {
                let childPath = at.path.isEmpty ? key : "\(at.path).\(key)"
                var message = "unknown key \"\(key)\""
                if let suggestion = KeySuggestion.closest(to: key, among: allowed) {
                    message += "; did you mean \"\(suggestion)\"?"
                } else {
                    message += " (known: \(allowed.joined(separator: ", ")))"
                }
                error(keyNode, childPath, message)
                continue
            }
            entries.append((key, keyNode, at.child(key, valueNode)))
        }
        return ConfigFields(entries: entries)
    }

    /// The entries of a mapping whose keys are names the user chooses (backups, repositories, env).
    func namedEntries(_ at: ConfigNode) -> [(key: String, keyNode: Yams.Node, value: ConfigNode)]? {
        guard case .mapping(let mapping) = at.node else {
            error(at, "expected a mapping of names, found \(at.kind)")
            return nil
        }
        var entries: [(key: String, keyNode: Yams.Node, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(keyNode, at.path, "a name must be a plain value, found \(ConfigNode(node: keyNode, path: "").kind)")
                continue
            }
            entries.append((scalar.string, keyNode, at.child(scalar.string, valueNode)))
        }
        return entries
    }

    /// A list; a single value is accepted as a list of one (`schedules: 1h`).
    func list(_ at: ConfigNode) -> [ConfigNode]? {
        switch at.node {
        case .sequence(let sequence):
            return sequence.enumerated().map { at.element($0.offset, $0.element) }
        case .scalar:
            return at.isNull ? [] : [at]
        default:
            error(at, "expected a list, found \(at.kind)")
            return nil
        }
    }

    // MARK: Scalars

    /// A string with `${VAR}` substituted.
    func string(_ at: ConfigNode) -> String? {
        guard case .scalar(let scalar) = at.node else {
            error(at, "expected a value, found \(at.kind)")
            return nil
        }
        switch EnvironmentSubstitution.substitute(scalar.string, environment: environment) {
        case .success(let value):
            return value
        case .failure(.unset(let name)):
            error(at, "environment variable \(name) is not set (write ${\(name):-default} to give a default)")
        case .failure(.unterminated):
            error(at, "\"${\" without a closing \"}\" (write $$ for a literal $)")
        case .failure(.badName(let name)):
            error(at, "\"${\(name)}\" is not a variable name (letters, digits and _; write $$ for a literal $)")
        }
        return nil
    }

    func nonEmptyString(_ at: ConfigNode) -> String? {
        guard let value = string(at) else { return nil }
        guard !value.isEmpty else {
            error(at, "must not be empty")
            return nil
        }
        return value
    }

    func stringList(_ at: ConfigNode) -> [String]? {
        guard let items = list(at) else { return nil }
        let values = items.compactMap(nonEmptyString)
        return values.count == items.count ? values : nil
    }

    func int(_ at: ConfigNode, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = string(at) else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            error(at, "expected a whole number, found \"\(text)\"")
            return nil
        }
        if let range, !range.contains(value) {
            let upper = range.upperBound == Int.max ? "" : String(range.upperBound)
            error(at, range.upperBound == Int.max ? "\(value) is too small (at least \(range.lowerBound))" : "\(value) is out of range \(range.lowerBound)-\(upper)")
            return nil
        }
        return value
    }

    func bool(_ at: ConfigNode) -> Bool? {
        guard let text = string(at) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(at, "expected true or false, found \"\(text)\"")
            return nil
        }
    }

    func oneOf(_ at: ConfigNode, _ choices: [String]) -> String? {
        guard let text = string(at) else { return nil }
        guard choices.contains(text) else {
            var message = "\"\(text)\" is not one of \(choices.joined(separator: ", "))"
            if let suggestion = KeySuggestion.closest(to: text, among: choices) { message += "; did you mean \"\(suggestion)\"?" }
            error(at, message)
            return nil
        }
        return text
    }

    /// `30s`, `5m` (minutes), `2h`, `1d`, `1w`, `1h30m`.
    func duration(_ at: ConfigNode, allowZero: Bool = false) -> Duration? {
        guard let text = string(at) else { return nil }
        guard let value = DurationText.parse(text) else {
            error(at, "\"\(text)\" is not a duration (a number and a unit: 30s, 5m for minutes, 2h, 1d, 1w; or combined as 1h30m)")
            return nil
        }
        guard allowZero || value > .zero else {
            error(at, "must be longer than zero")
            return nil
        }
        return value
    }

    /// A rate in bytes per second, from `512K`, `5M`, `1.5G` (K = KiB) or plain bytes.
    func rate(_ at: ConfigNode) -> Int? {
        guard let text = string(at) else { return nil }
        guard let value = ConfigurationUnits.bytes(text) else {
            error(at, "\"\(text)\" is not a rate (bytes per second: 512K, 5M, 1.5G with K = 1024 bytes, or a plain number of bytes)")
            return nil
        }
        guard value > 0 else {
            error(at, "a limit of 0 would stop every transfer; leave the key out for no limit")
            return nil
        }
        return value
    }

    // MARK: Paths

    /// An absolute path: `~/x` is the home directory's, a relative one is the config file directory's.
    func resolve(_ path: String) -> String {
        var expanded = path
        if path == "~" || path.hasPrefix("~/") {
            expanded = NSHomeDirectory() + path.dropFirst()
        }
        let absolute = expanded.hasPrefix("/") ? expanded : (directory as NSString).appendingPathComponent(expanded)
        return (absolute as NSString).standardizingPath
    }

    func path(_ at: ConfigNode) -> String? {
        nonEmptyString(at).map(resolve)
    }

    /// A path to a file that must exist now (password files, CA files, `_file` secrets).
    func existingFile(_ at: ConfigNode) -> String? {
        guard let path = path(at) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            error(at, "the file \(path) does not exist")
            return nil
        }
        guard !isDirectory.boolValue else {
            error(at, "\(path) is a directory, not a file")
            return nil
        }
        return path
    }

    /// The content of a secret file, with its trailing newline trimmed.
    func secretFile(_ at: ConfigNode) -> String? {
        guard let path = existingFile(at) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
            error(at, "the file \(path) cannot be read as UTF-8 text")
            return nil
        }
        while let last = text.last, last.isNewline { text.removeLast() }
        return text
    }
}
