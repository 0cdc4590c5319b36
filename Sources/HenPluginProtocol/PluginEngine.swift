/// A driver plugin's engine, built for one request: `PluginMain.run(MyEngine.self)` reads the request,
/// builds it and calls the method of the operation asked for. Each method answers one operation of the
/// protocol (docs/plugins.md); `list` sends its `node` messages, `dump` ends the process with
/// ``PluginMain/Output/streamAndExit(_:what:)``. `unlock` and `diff` are unsupported unless the engine
/// says otherwise (and its description lists the capability).
public protocol PluginEngine: Sendable {
    /// What `describe` answers: the name, capabilities and configuration keys.
    static var description: DriverDescription { get }

    init(_ request: PluginRequest, output: PluginMain.Output) throws(DriverError)

    /// `verify`: the programs it runs, each with its version (one sentence in an error when one is missing).
    func programs() async throws(DriverError) -> [String]
    /// `status`: whether the repository exists.
    func isInitialized() async throws(DriverError) -> Bool
    func initialize() async throws(DriverError) -> InitializeResult
    func backup() async throws(DriverError) -> BackupSummary
    /// `snapshots`: this host's snapshots, oldest first (the request's filter is applied by the caller).
    func snapshots() async throws(DriverError) -> [Snapshot]
    /// `list`: sends a `node` message per entry.
    func list() async throws(DriverError)
    /// `dump`: streams the bytes and exits.
    func dump() async throws(DriverError)
    func restore() async throws(DriverError) -> RestoreSummary
    func forget() async throws(DriverError) -> ForgetSummary
    func check() async throws(DriverError) -> CheckSummary
    func stats() async throws(DriverError) -> RepositoryStats
    func unlock() async throws(DriverError)
    func diff() async throws(DriverError)
}

extension PluginEngine {
    public func unlock() async throws(DriverError) {
        throw DriverError(.unsupported, "The \(Self.description.name) driver has no unlock.")
    }

    public func diff() async throws(DriverError) {
        throw DriverError(.unsupported, "The \(Self.description.name) driver does not compare snapshots itself; Hen compares their listings.")
    }
}

extension PluginMain {
    /// The whole of a Swift plugin's `main.swift`: `await PluginMain.run(MyEngine.self)`. Runs the operation
    /// named in argv on an engine built for the request, and exits, as the closure form does.
    public static func run<Engine: PluginEngine>(_ type: Engine.Type) async -> Never {
        await run { request, output in
            // Built for every operation but describe, which needs no repository.
            func engine() throws(DriverError) -> Engine { try Engine(request, output: output) }
            switch request.operation {
            case .describe: return PluginResult(protocolVersion: PluginProtocol.version, description: Engine.description)
            case .verify: return PluginResult(programs: try await engine().programs())
            case .status: return PluginResult(initialized: try await engine().isInitialized())
            case .initialize: return PluginResult(initialize: try await engine().initialize())
            case .backup: return PluginResult(backup: try await engine().backup())
            case .snapshots:
                let filter = request.filter ?? SnapshotFilter()
                for snapshot in try await engine().snapshots() where filter.matches(snapshot) {
                    output.send(.snapshot(snapshot))
                }
                return PluginResult()
            case .list:
                try await engine().list()
                return PluginResult()
            case .dump:
                try await engine().dump()
                return nil
            case .restore: return PluginResult(restore: try await engine().restore())
            case .forget: return PluginResult(forget: try await engine().forget())
            case .check: return PluginResult(check: try await engine().check())
            case .stats: return PluginResult(stats: try await engine().stats())
            case .unlock:
                try await engine().unlock()
                return PluginResult()
            case .diff:
                try await engine().diff()
                return PluginResult()
            }
        }
    }
}
