import Foundation

/// The driver plugin protocol (docs/plugins.md): Hen runs a plugin executable with an operation's name as
/// its only argument, writes one ``PluginRequest`` as JSON on its stdin, and reads JSON lines
/// (``PluginMessage``) from its stdout until it exits. These types are the protocol: Hen's `PluginDriver`
/// and the plugins we ship both use them.
public enum PluginProtocol {
    /// The version this build speaks; a plugin's `describe` must answer it.
    public static let version = 1

    /// The file name of the plugin for driver `name` in a plugin directory.
    public static func executableName(forDriver name: String) -> String { "hen-plugin-\(name)" }
    /// The driver name of a plugin file, when the file name follows ``executableName(forDriver:)``.
    public static func driverName(ofExecutable file: String) -> String? {
        let prefix = "hen-plugin-"
        guard file.hasPrefix(prefix), file.count > prefix.count else { return nil }
        let name = String(file.dropFirst(prefix.count))
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.first?.isLetter == true else { return nil }
        return name
    }

    /// The encoder both sides use: keys as the Swift names (camelCase), dates as seconds since 1970.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}

/// The operations, as the plugin's first argument.
public enum PluginOperation: String, Sendable, Hashable, Codable, CaseIterable {
    /// The plugin's ``DriverDescription`` (no repository in the request).
    case describe
    /// The programs the plugin runs, checked: `result.programs`.
    case verify
    /// Whether the repository exists and opens: `result.initialized`.
    case status
    case initialize, backup, snapshots, list, restore, dump, forget, check, stats, unlock
    /// Only for a plugin whose description has the `diff` capability: `change` lines, at most one
    /// `statistics` line, then an empty result.
    case diff
}

/// The one JSON document a plugin reads on stdin. Hen has already applied niceness to the plugin's process;
/// limits and the host are the plugin's to honour.
public struct PluginRequest: Sendable, Hashable, Codable {
    public var protocolVersion: Int
    public var operation: PluginOperation
    /// Absent for `describe`.
    public var repository: Repository?
    /// Every snapshot written carries this host; only this host's snapshots may be listed, read or forgotten.
    public var host: String
    /// A directory the plugin may keep caches in.
    public var cacheDirectory: String?
    /// Recovery mode: do not write to the repository.
    public var readOnly: Bool
    /// Paths of programs by name from the configuration's `executables` (`borg: /opt/borg/bin/borg`); a
    /// missing entry means "look it up in PATH".
    public var executables: [String: String] = [:]

    public var backup: BackupRequest?
    /// `snapshots`.
    public var filter: SnapshotFilter?
    /// `list`, `dump`: the snapshot and the path inside it (nil: the whole snapshot).
    public var snapshot: String?
    public var path: String?
    public var restore: RestoreRequest?
    public var forget: Forget?
    public var check: CheckRequest?
    /// `diff`: the two snapshots (this host's), older first.
    public var diff: Diff?

    public init(operation: PluginOperation, repository: Repository?, host: String, cacheDirectory: String? = nil, readOnly: Bool = false) {
        self.protocolVersion = PluginProtocol.version
        self.operation = operation
        self.repository = repository
        self.host = host
        self.cacheDirectory = cacheDirectory
        self.readOnly = readOnly
    }

    public struct Repository: Sendable, Hashable, Codable {
        public var name: String
        public var location: String
        /// The password itself (from `password` or read from `password_file` by Hen); nil when none is set.
        public var password: String?
        /// The repository's `env` (credentials): secrets, never printed.
        public var environment: [String: String]
        public var limits: TransferLimits

        public init(name: String, location: String, password: String? = nil, environment: [String: String] = [:], limits: TransferLimits = TransferLimits()) {
            self.name = name
            self.location = location
            self.password = password
            self.environment = environment
            self.limits = limits
        }
    }

    public struct Diff: Sendable, Hashable, Codable {
        public var older: String
        public var newer: String
        public init(older: String, newer: String) {
            self.older = older
            self.newer = newer
        }
    }

    public struct Forget: Sendable, Hashable, Codable {
        /// These snapshots, or (when nil) whatever `policy` does not keep.
        public var snapshots: [String]?
        public var policy: RetentionPolicy?
        public var tags: [String]
        public var prune: Bool
        public init(snapshots: [String]?, policy: RetentionPolicy?, tags: [String], prune: Bool) {
            self.snapshots = snapshots
            self.policy = policy
            self.tags = tags
            self.prune = prune
        }
    }

}
