import Foundation

/// What a driver says about itself before any repository is opened: what it can do, and which repository
/// settings it takes. The configuration reader checks every repository against its driver's description,
/// so that a setting a driver cannot use is an error at its line and column, for built-in drivers and
/// plugins alike, and nothing outside a driver's folder needs to know driver names.
public struct DriverDescription: Sendable, Hashable, Codable {
    /// The name a repository's `driver:` uses.
    public var name: String
    /// What the driver can do (static: the same for every repository).
    public var capabilities: DriverCapabilities
    /// Whether the repository takes `password` / `password_file`.
    public var password: PasswordUse
    /// The locations the driver reaches.
    public var location: LocationForm
    /// Optional repository keys the driver honours beyond `driver`, `location`, `auto_init` and `check`
    /// (which every driver takes): `env`, `limits`, `password_command`.
    public var keys: [RepositoryKey]

    public init(name: String, capabilities: DriverCapabilities, password: PasswordUse, location: LocationForm, keys: [RepositoryKey] = []) {
        self.name = name
        self.capabilities = capabilities
        self.password = password
        self.location = location
        self.keys = keys
    }

    /// Whether a repository needs, may have, or must not have a password.
    public enum PasswordUse: String, Sendable, Hashable, Codable {
        /// The repository is encrypted with it: `password` or `password_file` must be given.
        case required
        /// The driver uses one when given.
        case optional
        /// The driver does not encrypt: a password would be ignored, so giving one is an error.
        case none
    }

    /// Optional repository keys a driver may take.
    public enum RepositoryKey: String, Sendable, Hashable, Codable, CaseIterable {
        /// Extra environment for the driver's processes (provider credentials).
        case env
        /// Upload and download limits.
        case limits
        /// A command the driver's tool runs for the password (restic's `--password-command`), so that Hen
        /// never sees it.
        case passwordCommand = "password_command"
    }

    /// How a location is written: a local path (made absolute against the configuration's directory), or
    /// a remote location kept as written.
    public struct LocationForm: Sendable, Hashable, Codable {
        /// Prefixes of remote locations (`s3:`, `sftp:`, `ssh://`). Empty with `hostPaths` false: local only.
        public var remotePrefixes: [String]
        /// `host:path` and `user@host:path` (as ssh, rsync and borg write them) are remote too.
        public var hostPaths: Bool
        /// A prefix that marks a local path explicitly (restic's `local:`); kept, its path made absolute.
        public var localPrefix: String?

        public init(remotePrefixes: [String] = [], hostPaths: Bool = false, localPrefix: String? = nil) {
            self.remotePrefixes = remotePrefixes
            self.hostPaths = hostPaths
            self.localPrefix = localPrefix
        }

        /// A local directory only.
        public static let localDirectory = LocationForm()

        public var reachesRemote: Bool { !remotePrefixes.isEmpty || hostPaths }

        /// What `location` is for this driver.
        public func classify(_ location: String) -> Kind {
            if let localPrefix, location.hasPrefix(localPrefix) { return .localWithPrefix(localPrefix, String(location.dropFirst(localPrefix.count))) }
            if remotePrefixes.contains(where: { location.hasPrefix($0) }) { return .remote }
            if hostPaths, Self.isHostPath(location) { return .remote }
            if let scheme = Self.scheme(of: location), !reachesRemote, scheme != "local" { return .unreachable(scheme: scheme) }
            return .local
        }

        public enum Kind: Sendable, Hashable {
            /// A local path, to be made absolute.
            case local
            /// A local path after an explicit prefix (`local:`), to be made absolute and prefixed again.
            case localWithPrefix(String, String)
            /// A remote location, kept as written.
            case remote
            /// A remote form this driver cannot reach (`s3:` for a local-only driver).
            case unreachable(scheme: String)
        }

        /// `s3` for `s3:host/bucket`: a URL-like prefix before the first colon, with no slash before it (a local
        /// path such as `./a:b` or `/srv/a:b` has none).
        public static func scheme(of location: String) -> String? {
            guard let colon = location.firstIndex(of: ":") else { return nil }
            let prefix = location[..<colon]
            guard let first = prefix.first, first.isLetter,
                prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
            else { return nil }
            return String(prefix)
        }

        /// `host:path` or `user@host:path`: something before the first colon that is not a path.
        static func isHostPath(_ location: String) -> Bool {
            guard let colon = location.firstIndex(of: ":") else { return false }
            let host = location[..<colon]
            guard !host.isEmpty, !host.contains("/") else { return false }
            return !location[colon...].hasPrefix("://")
        }
    }
}
