import Synchronization
@testable import HenEngine

/// Collects events from a synchronous callback.
final class EventLog: Sendable {
    private let storage = Mutex<[JobEvent]>([])
    func append(_ event: JobEvent) { storage.withLock { $0.append(event) } }
    var events: [JobEvent] { storage.withLock { $0 } }
}
