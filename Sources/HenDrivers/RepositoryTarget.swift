import Foundation
import HenProcess
import Logging

/// Everything a driver needs to open one repository. Built by the engine from the configuration.
public struct RepositoryTarget: Sendable {
    /// The repository's name in the configuration (used in messages, never as a location).
    public var name: String
    /// Where the repository is: a path, or a restic location such as `s3:`, `sftp:`, `rest:`, `rclone:`.
    public var location: String
    /// The repository password, when given inline or from the environment.
    public var password: Secret?
    /// A file holding the repository password.
    public var passwordFile: String?
    /// A command whose standard output is the repository password, run by the backend tool at each use
    /// (restic's `--password-command`: split like a shell would, no shell run). Hen never sees the password.
    public var passwordCommand: String?
    /// Extra environment for the driver's processes (provider credentials: AWS_*, OS_*, B2_*, …).
    public var environment: [String: Secret]
    /// Transfer limits for this repository.
    public var limits: TransferLimits

    public init(
        name: String,
        location: String,
        password: Secret? = nil,
        passwordFile: String? = nil,
        passwordCommand: String? = nil,
        environment: [String: Secret] = [:],
        limits: TransferLimits = TransferLimits()
    ) {
        self.name = name
        self.location = location
        self.password = password
        self.passwordFile = passwordFile
        self.passwordCommand = passwordCommand
        self.environment = environment
        self.limits = limits
    }

    /// Every secret value this target carries, for redaction of anything a child process prints (the redactor
    /// leaves out values too short to be secrets).
    public var secretValues: [String] {
        var values = environment.values.map(\.value)
        if let password { values.append(password.value) }
        return values
    }
}

/// What the driver's surroundings provide: the host it is confined to, where its tools are, where it may
/// keep caches, how nice its processes are, and where it logs.
public struct DriverContext: Sendable {
    /// Every snapshot this driver writes carries this host; only this host's snapshots are visible.
    public var hostname: String
    /// Paths of executables by name (`restic`, `tar`); a missing entry means "look it up in PATH".
    public var executables: [String: String]
    /// A directory where the driver may keep caches (restic's `--cache-dir`); nil for the tool's default.
    public var cacheDirectory: String?
    /// CPU and IO priority for the driver's processes.
    public var niceness: Niceness
    public var logger: Logger
    /// Recovery mode: reads must not write to the repository (restic runs them with `--no-lock`).
    public var readOnly: Bool

    public init(
        hostname: String,
        executables: [String: String] = [:],
        cacheDirectory: String? = nil,
        niceness: Niceness = Niceness(),
        logger: Logger = Logger(label: "hen.driver"),
        readOnly: Bool = false
    ) {
        self.hostname = hostname
        self.executables = executables
        self.cacheDirectory = cacheDirectory
        self.niceness = niceness
        self.logger = logger
        self.readOnly = readOnly
    }
}
