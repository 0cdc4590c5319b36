import Foundation
import HenProcess

/// A driver that is an executable speaking the plugin protocol (docs/plugins.md, ``PluginProtocol``): each
/// operation runs the plugin once with the operation's name as its argument and one ``PluginRequest`` on
/// stdin, and reads its JSON lines. Everything the plugin says is validated (``PluginOutputReader``); a
/// plugin that breaks the protocol, crashes, or ends without a result fails the operation with one sentence.
/// Stopping follows the driver contract: SIGINT, its output read until it exits, SIGKILL after the grace.
public struct PluginDriver: BackupDriver {
    public let description: DriverDescription
    /// The plugin's executable (absolute).
    public let executable: String
    public let repository: RepositoryTarget
    public let context: DriverContext
    /// How long the plugin may take to stop after SIGINT before it gets SIGKILL.
    let interruptGrace: Duration

    public init(description: DriverDescription, executable: String, repository: RepositoryTarget, context: DriverContext, interruptGrace: Duration = .seconds(30)) throws {
        guard !repository.location.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \"\(repository.name)\" has no location.", repository: repository.name)
        }
        guard !context.hostname.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \"\(repository.name)\": the hostname is empty.", repository: repository.name)
        }
        self.description = description
        self.executable = executable
        self.repository = repository
        self.context = context
        self.interruptGrace = interruptGrace
    }

    public var capabilities: DriverCapabilities { description.capabilities }

    public func verifyPrograms() async throws -> [String] {
        let result = try await run(.verify, events: { _ in })
        return result.programs ?? []
    }

    public func isInitialized() async throws -> Bool {
        try await run(.status, events: { _ in }).initialized ?? false
    }

    public func initialize(events: DriverEventHandler) async throws -> InitializeResult {
        guard let result = try await run(.initialize, events: events).initialize else { throw missing("initialize") }
        return result
    }

    public func backup(_ request: BackupRequest, events: DriverEventHandler) async throws -> BackupSummary {
        guard !request.paths.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \"\(repository.name)\": a backup needs at least one path.", repository: repository.name)
        }
        var limits = repository.limits.combined(with: request.limits)
        if !capabilities.contains(.bandwidthLimits) { limits = TransferLimits() }
        let result = try await run(.backup, limits: limits, events: events) {
            $0.backup = request
        }
        guard let summary = result.backup else { throw missing("backup") }
        return summary
    }

    public func snapshots(_ filter: SnapshotFilter) -> AsyncThrowingStream<Snapshot, any Error> {
        items(.snapshots, configure: { $0.filter = filter }) { message in
            guard case .snapshot(let snapshot) = message else { return nil }
            // The plugin filters too; this keeps the contract whatever it does.
            return filter.matches(snapshot) ? snapshot : nil
        }
    }

    public func list(snapshot: String, path: String?) -> AsyncThrowingStream<Node, any Error> {
        items(.list, configure: { $0.snapshot = snapshot; $0.path = path }) { message in
            guard case .node(let node) = message else { return nil }
            return node
        }
    }

    public func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary {
        let result = try await run(.restore, events: events) {
            $0.restore = request
        }
        guard let summary = result.restore else { throw missing("restore") }
        return summary
    }

    public func dump(snapshot: String, path: String) -> AsyncThrowingStream<[UInt8], any Error> {
        BackpressuredStream.make(of: [UInt8].self, bufferSize: 4) { sink in
            _ = try await run(.dump, events: { _ in }, configure: { $0.snapshot = snapshot; $0.path = path }, onItem: { item in
                guard case .bytes(let chunk) = item else { return true }
                return await sink.send(chunk)
            })
        }
    }

    public func forget(_ request: ForgetRequest, events: DriverEventHandler) async throws -> ForgetSummary {
        let forget: PluginRequest.Forget
        switch request.selection {
        case .snapshots(let ids): forget = PluginRequest.Forget(snapshots: ids, policy: nil, tags: request.tags, prune: request.prune)
        case .policy(let policy):
            guard !RetentionPlanner.isEmpty(policy) else {
                throw DriverError(.invalidRequest, "Repository \"\(repository.name)\": a retention policy that keeps nothing is refused (it would keep everything).", repository: repository.name)
            }
            forget = PluginRequest.Forget(snapshots: nil, policy: policy, tags: request.tags, prune: request.prune)
        }
        let result = try await run(.forget, events: events) { $0.forget = forget }
        guard let summary = result.forget else { throw missing("forget") }
        return summary
    }

    public func check(_ request: CheckRequest, events: DriverEventHandler) async throws -> CheckSummary {
        if request.readDataSubset != nil, !capabilities.contains(.readDataSubset) {
            throw DriverError(.unsupported, "Repository \"\(repository.name)\": the \(description.name) driver cannot read back a subset of the data.", repository: repository.name)
        }
        let result = try await run(.check, events: events) { $0.check = request }
        guard let summary = result.check else { throw missing("check") }
        return summary
    }

    public func stats() async throws -> RepositoryStats {
        guard let stats = try await run(.stats, events: { _ in }).stats else { throw missing("stats") }
        return stats
    }

    public func unlock(events: DriverEventHandler) async throws {
        guard capabilities.contains(.locks) else {
            throw DriverError(.unsupported, "Repository \"\(repository.name)\": the \(description.name) driver keeps no locks to remove.", repository: repository.name)
        }
        _ = try await run(.unlock, events: events)
    }

    /// The plugin's own comparison, for a plugin that describes itself with the `diff` capability (without
    /// it the engine compares the snapshots' indexed trees and never asks).
    public func diff(from older: String, to newer: String) -> AsyncThrowingStream<SnapshotDiffItem, any Error> {
        guard capabilities.contains(.diff) else {
            let error = DriverError(.unsupported, "Repository \"\(repository.name)\": the \(description.name) driver cannot compare two snapshots itself.", repository: repository.name)
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        return items(.diff, configure: { $0.diff = PluginRequest.Diff(older: older, newer: newer) }) { message in
            switch message {
            case .change(let change): .change(change)
            case .statistics(let statistics): .statistics(statistics)
            default: nil
            }
        }
    }

    /// A result that validated but lacks its member cannot happen (``PluginOutputReader`` checks it);
    /// this keeps the compiler and the reader honest together.
    private func missing(_ operation: String) -> DriverError {
        DriverError(.failed, "Repository \"\(repository.name)\": the \(description.name) plugin answered \(operation) without its result.", repository: repository.name)
    }

    /// A stream of the items of `snapshots`, `list` or `diff`, with backpressure: a consumer that stops early
    /// stops the plugin (SIGINT, drained).
    private func items<Item: Sendable>(_ operation: PluginOperation, configure: @escaping @Sendable (inout PluginRequest) -> Void, pick: @escaping @Sendable (PluginMessage) -> Item?) -> AsyncThrowingStream<Item, any Error> {
        BackpressuredStream.make(of: Item.self, bufferSize: 64) { sink in
            _ = try await run(operation, events: { _ in }, configure: configure, onItem: { item in
                guard case .message(let message) = item, let value = pick(message) else { return true }
                return await sink.send(value)
            })
        }
    }
}
