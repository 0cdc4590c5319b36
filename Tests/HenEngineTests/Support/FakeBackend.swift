import Foundation
import HenDrivers
import Synchronization

/// What every fake driver of one test shares: the repositories' state, the calls made, and the knobs a
/// test turns (block an operation until released, fail it, report progress or warnings).
final class FakeBackend: Sendable {
    struct Call: Sendable, Hashable {
        var repository: String
        /// `isInitialized`, `initialize`, `backup`, `forget`, `check`, `restore`, `unlock`.
        var operation: String
        var tags: [String] = []
        var paths: [String] = []
        var limits: TransferLimits = TransferLimits()
        var readDataSubset: String?
        var forget: ForgetRequest?
        var hostname: String = ""
    }

    private struct State {
        var initialized: Set<String> = []
        var calls: [Call] = []
        var finished: [Call] = []
        var stoppedCleanly: [Call] = []
        var failures: [String: DriverError] = [:]
        var blocked: Set<String> = []
        var waiting: [UUID: (key: String, continuation: CheckedContinuation<Void, Never>)] = [:]
        var callWaiters: [(key: String, count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var progressReports = 0
        var warnings: [String] = []
        var snapshotCounter = 0
        var restoreFiles: [String: String] = [:]
    }

    private let state = Mutex(State())

    static func key(_ repository: String, _ operation: String) -> String { "\(repository)/\(operation)" }

    var calls: [Call] { state.withLock { $0.calls } }
    var finished: [Call] { state.withLock { $0.finished } }
    /// Operations that were cancelled and stopped (the fake's stand-in for SIGINT-and-drain).
    var stoppedCleanly: [Call] { state.withLock { $0.stoppedCleanly } }
    func calls(_ operation: String) -> [Call] { calls.filter { $0.operation == operation } }

    func setInitialized(_ repository: String) { state.withLock { _ = $0.initialized.insert(repository) } }
    func isInitialized(_ repository: String) -> Bool { state.withLock { $0.initialized.contains(repository) } }
    func fail(_ repository: String, _ operation: String, _ error: DriverError) { state.withLock { $0.failures[Self.key(repository, operation)] = error } }
    /// The operation succeeds again (after ``fail(_:_:_:)``).
    func stopFailing(_ repository: String, _ operation: String) { state.withLock { $0.failures[Self.key(repository, operation)] = nil } }
    /// Backups report this many progress events.
    func reportProgress(_ count: Int) { state.withLock { $0.progressReports = count } }
    /// Backups end with these warnings (restic's exit code 3).
    func warnOnBackup(_ warnings: [String]) { state.withLock { $0.warnings = warnings } }

    /// Restores write these files (path below the target: text) into their target before anything else, as
    /// restic does before it fails or is stopped.
    func writeOnRestore(_ files: [String: String]) { state.withLock { $0.restoreFiles = files } }
    var restoreFiles: [String: String] { state.withLock { $0.restoreFiles } }

    /// The operation waits, once started, until ``release(_:_:)`` (or its task is cancelled).
    func block(_ repository: String, _ operation: String) { state.withLock { _ = $0.blocked.insert(Self.key(repository, operation)) } }

    func release(_ repository: String, _ operation: String) {
        let key = Self.key(repository, operation)
        let waiters = state.withLock { state in
            state.blocked.remove(key)
            let waiters = state.waiting.filter { $0.value.key == key }
            for id in waiters.keys { state.waiting[id] = nil }
            return waiters.values.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until `operation` on `repository` was called at least `count` times.
    func waitForCall(_ repository: String, _ operation: String, count: Int = 1) async {
        let key = Self.key(repository, operation)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.calls.filter({ Self.key($0.repository, $0.operation) == key }).count >= count { return true }
                state.callWaiters.append((key, count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Records the call, fails or blocks as told; throws `.cancelled` when the task is cancelled meanwhile.
    func enter(_ call: Call) async throws {
        let key = Self.key(call.repository, call.operation)
        let (failure, blocked, ready) = state.withLock { state in
            state.calls.append(call)
            let count = state.calls.filter { Self.key($0.repository, $0.operation) == key }.count
            let ready = state.callWaiters.filter { $0.key == key && $0.count <= count }.map(\.continuation)
            state.callWaiters.removeAll { $0.key == key && $0.count <= count }
            return (state.failures[key], state.blocked.contains(key), ready)
        }
        for waiter in ready { waiter.resume() }
        if blocked {
            let id = UUID()
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if Task.isCancelled || !state.blocked.contains(key) { return true }
                        state.waiting[id] = (key, continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiting.removeValue(forKey: id) }
                waiter?.continuation.resume()
            }
        }
        if Task.isCancelled {
            state.withLock { $0.stoppedCleanly.append(call) }
            throw DriverError(.cancelled, "The \(call.operation) of repository \(call.repository) was stopped.", repository: call.repository)
        }
        if let failure { throw failure }
    }

    func leave(_ call: Call) { state.withLock { $0.finished.append(call) } }

    func initialize(_ repository: String) -> Bool {
        state.withLock { $0.initialized.insert(repository).inserted }
    }

    func nextSnapshotID() -> String {
        state.withLock { state in
            state.snapshotCounter += 1
            return String(format: "%08x", state.snapshotCounter) + String(repeating: "ab", count: 28)
        }
    }

    var progressReports: Int { state.withLock { $0.progressReports } }
    var backupWarnings: [String] { state.withLock { $0.warnings } }

    /// A registry with `fake` (one backup at a time per repository) and `fake-concurrent` drivers.
    func registry() -> DriverRegistry {
        var registry = DriverRegistry()
        registry.register(DriverDescription(name: "fake", capabilities: [.locks], password: .optional, location: .localDirectory)) { target, context in
            FakeDriver(backend: self, target: target, context: context, capabilities: [.locks])
        }
        registry.register(DriverDescription(name: "fake-concurrent", capabilities: [.locks, .concurrentBackups], password: .optional, location: .localDirectory)) { target, context in
            FakeDriver(backend: self, target: target, context: context, capabilities: [.locks, .concurrentBackups])
        }
        return registry
    }
}
