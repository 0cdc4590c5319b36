import Foundation

/// Finds the configuration file: `--config`, then `$HEN_CONFIG`, then `./config.yml`, then
/// `/etc/hen-backup/config.yml`. An explicit choice (the option or the variable) that does not exist is
/// an error, never a silent fall-through to another file.
public enum ConfigurationLocator {
    public static let environmentVariable = "HEN_CONFIG"
    public static let systemPath = "/etc/hen-backup/config.yml"

    public static func resolve(
        explicit: String?,
        environment: [String: String],
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        systemPath: String = ConfigurationLocator.systemPath
    ) throws(ConfigurationLocatorError) -> String {
        func absolute(_ path: String) -> String {
            ((path.hasPrefix("/") ? path : (currentDirectory as NSString).appendingPathComponent(path)) as NSString).standardizingPath
        }
        func isFile(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        if let explicit, !explicit.isEmpty {
            let path = absolute(explicit)
            guard isFile(path) else { throw ConfigurationLocatorError(.notFound, "The configuration file \(path) given with --config does not exist.", tried: [path]) }
            return path
        }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty {
            let path = absolute(fromEnvironment)
            guard isFile(path) else { throw ConfigurationLocatorError(.notFound, "The configuration file \(path) named by $\(environmentVariable) does not exist.", tried: [path]) }
            return path
        }
        let candidates = [absolute("config.yml"), systemPath]
        if let found = candidates.first(where: isFile) { return found }
        throw ConfigurationLocatorError(
            .notFound,
            "No configuration file found: tried --config (not given), $\(environmentVariable) (not set), \(candidates.joined(separator: ", ")).",
            tried: candidates
        )
    }
}

/// No configuration file where one was expected.
public struct ConfigurationLocatorError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notFound = "config_not_found"
    }
    public var code: Code
    public var message: String
    /// The paths looked at, in order.
    public var tried: [String]

    public init(_ code: Code, _ message: String, tried: [String]) {
        self.code = code
        self.message = message
        self.tried = tried
    }

    public var description: String { message }
}
