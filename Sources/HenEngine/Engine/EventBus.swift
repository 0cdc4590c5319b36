import Foundation
import Synchronization

/// Live job events, for the API's server-sent events and the in-process CLI: one stream per subscriber, of
/// one job or of every job. The engine's job parts publish on the engine's executor, so every subscriber
/// sees a job's events in the order they happened.
final class EventBus: Sendable {
    struct Subscriber: Sendable {
        var jobID: String?
        var continuation: AsyncStream<JobEvent>.Continuation
    }

    private struct State {
        var subscribers: [UUID: Subscriber] = [:]
        /// Set by ``close()``: streams asked for afterwards end at once.
        var closed = false
    }

    private let state = Mutex(State())

    /// A stream of the events of `jobID` (of every job when nil). It ends when the consumer stops iterating
    /// or the bus closes; slow consumers lose the oldest events beyond 1000.
    func subscribe(jobID: String?) -> (stream: AsyncStream<JobEvent>, token: UUID) {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingNewest(1000))
        let token = UUID()
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(token) }
        let added = state.withLock { state in
            // After the engine closed, a new stream ends at once (a client reconnecting during shutdown).
            guard !state.closed else { return false }
            state.subscribers[token] = Subscriber(jobID: jobID, continuation: continuation)
            return true
        }
        if !added { continuation.finish() }
        return (stream, token)
    }

    func unsubscribe(_ token: UUID) {
        // Finished outside the lock: finishing calls `onTermination`, which unsubscribes again.
        state.withLock { $0.subscribers.removeValue(forKey: token) }?.continuation.finish()
    }

    func emit(_ event: JobEvent) {
        let receivers = state.withLock { state in
            state.subscribers.values.filter { $0.jobID == nil || $0.jobID == event.jobID }.map(\.continuation)
        }
        for receiver in receivers { receiver.yield(event) }
    }

    /// Ends every stream, and those asked for later at once.
    func close() {
        let subscribers = state.withLock { state in
            state.closed = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.continuation.finish() }
    }

    var subscribers: [UUID: Subscriber] { state.withLock { $0.subscribers } }
}
