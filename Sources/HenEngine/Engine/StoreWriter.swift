import Foundation
import Logging
import Synchronization

/// Writes records to the job store one after another, in the order the engine produced them, so that an
/// older state never overwrites a newer one. `flush` waits until everything before it is written.
///
/// A record that could not be written (a full disk) is kept, newest version per job, and written again
/// after the next write that succeeds or at ``retryPending()``: when space comes back the store catches up
/// without a restart.
final class StoreWriter: Sendable {
    private enum Item: Sendable {
        case save(JobRecord)
        /// Saved in turn once the store shows it can record jobs, and the caller learns whether it was written.
        case saveChecked(JobRecord, CheckedContinuation<Void, any Error>)
        /// Whether the store can record jobs now, asked in turn.
        case check(CheckedContinuation<Void, any Error>)
        case retry
        case flush(CheckedContinuation<Void, Never>)
    }

    private let continuation: AsyncStream<Item>.Continuation
    private let task: Task<Void, Never>
    /// Saves handed over and not yet done: `flush` returns at once when there are none, instead of queueing
    /// behind the writer's task (every read of the store flushes first, and `/health` asks for a retry).
    private let pending: PendingWrites

    private final class PendingWrites: Sendable {
        let count = Atomic<Int>(0)
        func add() { _ = count.add(1, ordering: .sequentiallyConsistent) }
        func done() { _ = count.subtract(1, ordering: .sequentiallyConsistent) }
        var none: Bool { count.load(ordering: .sequentiallyConsistent) == 0 }
    }

    /// Every record is written with the configuration's secrets redacted (``JobRecord/redacted(by:)``).
    init(store: JobStore, secrets: ConfigurationSecrets, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self)
        self.continuation = continuation
        let pending = PendingWrites()
        self.pending = pending
        task = Task {
            /// Records whose last write failed, by job id (only the newest version matters).
            var unwritten: [String: JobRecord] = [:]
            func write(_ record: JobRecord) async throws {
                try await store.save(record.redacted(by: secrets.redactor))
                unwritten[record.id] = nil
            }
            func retryUnwritten() async {
                for record in unwritten.values.sorted(by: { $0.queuedAt < $1.queuedAt }) {
                    do {
                        try await write(record)
                        logger.notice("Job \(record.id) is recorded again (the job store could not be written before).", metadata: ["job": "\(record.id)"])
                    } catch {
                        return
                    }
                }
            }
            for await item in stream {
                defer {
                    switch item {
                    case .save, .saveChecked: pending.done()
                    case .check, .retry, .flush: break
                    }
                }
                switch item {
                case .save(let record):
                    do {
                        try await write(record)
                        if !unwritten.isEmpty { await retryUnwritten() }
                    } catch {
                        if unwritten.updateValue(record, forKey: record.id) == nil {
                            logger.error("Job \(record.id) could not be recorded (kept in memory; written again once the store can be written): \(error)", metadata: ["job": "\(record.id)"])
                        }
                    }
                case .saveChecked(let record, let waiter):
                    do {
                        try await store.checkWritable()
                        try await write(record)
                        waiter.resume()
                        if !unwritten.isEmpty { await retryUnwritten() }
                    } catch {
                        waiter.resume(throwing: error)
                    }
                case .check(let waiter):
                    do {
                        try await store.checkWritable()
                        waiter.resume()
                    } catch {
                        waiter.resume(throwing: error)
                    }
                case .retry:
                    if !unwritten.isEmpty { await retryUnwritten() }
                case .flush(let waiter):
                    waiter.resume()
                }
            }
        }
    }

    deinit {
        continuation.finish()
    }

    func save(_ record: JobRecord) {
        hand(.save(record))
    }

    /// Hands a save over, counted in ``pending`` until the writer's task has done it.
    private func hand(_ item: Item) {
        pending.add()
        if case .terminated = continuation.yield(item) {
            pending.done()
            switch item {
            case .saveChecked(_, let waiter): waiter.resume(throwing: EngineError(.shuttingDown, "The job store is closed."))
            default: break
            }
        }
    }

    /// Writes `record` after everything handed over before it, and throws when it could not be written or
    /// the store cannot record jobs now (``JobStore/checkWritable()``: too little free space, a failed
    /// write): the caller then does not go on as if it were recorded.
    func saveChecked(_ record: JobRecord) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            hand(.saveChecked(record, waiter))
        }
    }

    /// Throws `.storeUnavailable` when the store cannot record jobs now (``JobStore/checkWritable()``).
    /// Asked from the writer's own task: a caller's cancellation (an HTTP request whose client went away)
    /// must not make a sound store look broken.
    func checkWritable() async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            if case .terminated = continuation.yield(.check(waiter)) {
                waiter.resume(throwing: EngineError(.shuttingDown, "The job store is closed."))
            }
        }
    }

    /// Writes again the records whose write failed (the store may be writable again).
    func retryPending() {
        continuation.yield(.retry)
    }

    /// Waits until every record handed over before this call is written.
    func flush() async {
        // Nothing handed over is still being written: there is nothing to wait for.
        guard !pending.none else { return }
        await withCheckedContinuation { waiter in
            if case .terminated = continuation.yield(.flush(waiter)) { waiter.resume() }
        }
    }

    /// Writes what is pending, then stops.
    func close() async {
        continuation.finish()
        await task.value
    }
}
