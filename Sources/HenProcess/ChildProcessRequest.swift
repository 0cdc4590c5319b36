import Foundation

/// What to run, with what, and how to stop it.
public struct ChildProcessRequest: Sendable {
    /// A name looked up in the child's `PATH` (the parent's when the child has none), or a path.
    public var executable: String
    public var arguments: [String]
    /// The child's complete environment: nothing is inherited that is not listed here.
    public var environment: [String: String]
    public var workingDirectory: String?
    /// CPU and IO priority of the child (applied before it executes, so every thread it starts inherits it).
    public var niceness: Niceness
    /// Every occurrence is replaced by `***` in each reported line, in the stderr tail and in errors.
    public var secrets: [String]
    /// How long an interrupted child may take to exit after SIGINT before it gets SIGKILL.
    public var terminationGrace: Duration
    /// How many of the last stderr lines the result keeps.
    public var stderrTailLines: Int
    /// Whether SIGINT goes to the child's whole process group (a shell and what it started, as a terminal's
    /// Ctrl-C would) or to the child alone (restic, which stops its own helpers in order).
    public var interruptsProcessGroup: Bool
    /// Bytes the child reads on stdin (given whole before it starts; nil: `/dev/null`). Secrets may go here:
    /// they never touch a command line or, for input under 60 kB, a disk.
    public var standardInput: [UInt8]?
    /// Stdout and stderr lines longer than this are cut (nil: any length). For children that are not
    /// trusted to write sane lines (plugins), so that one endless line cannot fill the memory.
    public var maxLineBytes: Int?

    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        niceness: Niceness = Niceness(),
        secrets: [String] = [],
        terminationGrace: Duration = .seconds(10),
        stderrTailLines: Int = 20,
        interruptsProcessGroup: Bool = false,
        standardInput: [UInt8]? = nil,
        maxLineBytes: Int? = nil
    ) {
        self.maxLineBytes = maxLineBytes
        self.standardInput = standardInput
        self.interruptsProcessGroup = interruptsProcessGroup
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.niceness = niceness
        self.secrets = secrets
        self.terminationGrace = terminationGrace
        self.stderrTailLines = stderrTailLines
    }

    /// The variables of this process's environment named in `names` (those that are set).
    public static func currentEnvironment(keeping names: some Sequence<String>) -> [String: String] {
        let current = ProcessInfo.processInfo.environment
        var kept: [String: String] = [:]
        for name in names {
            if let value = current[name] { kept[name] = value }
        }
        return kept
    }
}
