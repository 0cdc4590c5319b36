import Foundation
import Logging

/// Writes records to the job store one after another, in the order the engine produced them, so that an
/// older state never overwrites a newer one. `flush` waits until everything before it is written.
final class StoreWriter: Sendable {
    private enum Item: Sendable {
        case save(JobRecord)
        case flush(CheckedContinuation<Void, Never>)
    }

    private let continuation: AsyncStream<Item>.Continuation
    private let task: Task<Void, Never>

    /// Every record is written with the configuration's secrets redacted (``JobRecord/redacted(by:)``).
    init(store: JobStore, secrets: ConfigurationSecrets, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self)
        self.continuation = continuation
        task = Task {
            for await item in stream {
                switch item {
                case .save(let record):
                    do {
                        try await store.save(record.redacted(by: secrets.redactor))
                    } catch {
                        logger.error("Job \(record.id) could not be recorded: \(error)", metadata: ["job": "\(record.id)"])
                    }
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
        continuation.yield(.save(record))
    }

    /// Waits until every record handed over before this call is written.
    func flush() async {
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
