import Foundation

/// One line a plugin writes on stdout. Every line is one JSON object with a `type`:
///
/// - `progress` (`progress`), `warning` (`message`), `log` (`level`, `message`): any number, any time;
/// - `snapshot` (`snapshot`) and `node` (`node`): the items of `snapshots` and `list`;
/// - `change` (`change`) and `statistics` (`statistics`, at most once): the items of `diff`;
/// - `stream`: for `dump` only, the last line: the raw bytes follow on stdout until the plugin exits;
/// - `result` (`result`) or `error` (`error`): exactly one, the last line (except after `stream`).
public enum PluginMessage: Sendable, Hashable, Codable {
    case progress(Progress)
    case warning(String)
    case log(level: DriverEvent.LogLevel, message: String)
    case snapshot(Snapshot)
    case node(Node)
    case change(SnapshotChange)
    case statistics(SnapshotDiffStatistics)
    case stream
    case result(PluginResult)
    case error(PluginFailure)

    private enum CodingKeys: String, CodingKey {
        case type, progress, message, level, snapshot, node, change, statistics, result, error
    }

    public enum Kind: String, Codable, CaseIterable, Sendable {
        case progress, warning, log, snapshot, node, change, statistics, stream, result, error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .type) {
        case .progress: self = .progress(try container.decode(Progress.self, forKey: .progress))
        case .warning: self = .warning(try container.decode(String.self, forKey: .message))
        case .log: self = .log(level: try container.decode(DriverEvent.LogLevel.self, forKey: .level), message: try container.decode(String.self, forKey: .message))
        case .snapshot: self = .snapshot(try container.decode(Snapshot.self, forKey: .snapshot))
        case .node: self = .node(try container.decode(Node.self, forKey: .node))
        case .change: self = .change(try container.decode(SnapshotChange.self, forKey: .change))
        case .statistics: self = .statistics(try container.decode(SnapshotDiffStatistics.self, forKey: .statistics))
        case .stream: self = .stream
        case .result: self = .result(try container.decode(PluginResult.self, forKey: .result))
        case .error: self = .error(try container.decode(PluginFailure.self, forKey: .error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .progress(let progress): try container.encode(Kind.progress, forKey: .type); try container.encode(progress, forKey: .progress)
        case .warning(let message): try container.encode(Kind.warning, forKey: .type); try container.encode(message, forKey: .message)
        case .log(let level, let message):
            try container.encode(Kind.log, forKey: .type); try container.encode(level, forKey: .level); try container.encode(message, forKey: .message)
        case .snapshot(let snapshot): try container.encode(Kind.snapshot, forKey: .type); try container.encode(snapshot, forKey: .snapshot)
        case .node(let node): try container.encode(Kind.node, forKey: .type); try container.encode(node, forKey: .node)
        case .change(let change): try container.encode(Kind.change, forKey: .type); try container.encode(change, forKey: .change)
        case .statistics(let statistics): try container.encode(Kind.statistics, forKey: .type); try container.encode(statistics, forKey: .statistics)
        case .stream: try container.encode(Kind.stream, forKey: .type)
        case .result(let result): try container.encode(Kind.result, forKey: .type); try container.encode(result, forKey: .result)
        case .error(let error): try container.encode(Kind.error, forKey: .type); try container.encode(error, forKey: .error)
        }
    }
}

/// The result of an operation: the member named after the operation is set (`backup` for `backup`, …);
/// `snapshots`, `list`, `diff`, `unlock` answer an empty result.
public struct PluginResult: Sendable, Hashable, Codable {
    /// `describe`: the protocol version the plugin speaks (``PluginProtocol/version``).
    public var protocolVersion: Int?
    public var description: DriverDescription?
    public var programs: [String]?
    public var initialized: Bool?
    public var initialize: InitializeResult?
    public var backup: BackupSummary?
    public var restore: RestoreSummary?
    public var forget: ForgetSummary?
    public var check: CheckSummary?
    public var stats: RepositoryStats?

    public init(protocolVersion: Int? = nil, description: DriverDescription? = nil, programs: [String]? = nil, initialized: Bool? = nil, initialize: InitializeResult? = nil, backup: BackupSummary? = nil, restore: RestoreSummary? = nil, forget: ForgetSummary? = nil, check: CheckSummary? = nil, stats: RepositoryStats? = nil) {
        self.protocolVersion = protocolVersion
        self.description = description
        self.programs = programs
        self.initialized = initialized
        self.initialize = initialize
        self.backup = backup
        self.restore = restore
        self.forget = forget
        self.check = check
        self.stats = stats
    }

    /// Whether the member `operation` needs is present.
    public func answers(_ operation: PluginOperation) -> Bool {
        switch operation {
        case .describe: description != nil && protocolVersion != nil
        case .verify: programs != nil
        case .status: initialized != nil
        case .initialize: initialize != nil
        case .backup: backup != nil
        case .restore: restore != nil
        case .forget: forget != nil
        case .check: check != nil
        case .stats: stats != nil
        case .snapshots, .list, .diff, .unlock, .dump: true
        }
    }
}

/// How an operation failed: one of the built-in drivers' codes (``DriverError/Code``) and one sentence.
public struct PluginFailure: Sendable, Hashable, Codable {
    public var code: DriverError.Code
    public var message: String
    /// The tool's own words, for the job log.
    public var detail: String?

    public init(code: DriverError.Code, message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }
}
