import Foundation

/// The records of this engine's queued and running jobs (finished ones live in the store only), and whoever
/// waits for one of them to end.
///
/// One owner for what admission, execution, status and the event streams must all see alike: a job's record
/// is here from its admission until the store has its final version. It lives on the engine's executor,
/// like the parts that change it (``JobAdmission``, ``JobExecution``).
final class LiveJobs {
    private(set) var records: [String: JobRecord] = [:]
    private var completionWaiters: [String: [CheckedContinuation<JobRecord, Never>]] = [:]

    subscript(id: String) -> JobRecord? {
        get { records[id] }
        set { records[id] = newValue }
    }

    @discardableResult
    func remove(_ id: String) -> JobRecord? {
        records.removeValue(forKey: id)
    }

    var queuedCount: Int { records.values.filter { $0.state == .queued }.count }

    /// Whether a live job (queued or running) does `operation`; with `queuedOnly`, a queued one.
    func contains(_ operation: JobOperation, queuedOnly: Bool = false) -> Bool {
        records.values.contains { (!queuedOnly || $0.state == .queued) && $0.request == operation }
    }

    /// Waits until the live job `id` has ended and returns its final record; nil at once when it is not
    /// live (or has ended already).
    nonisolated(nonsending) func finalRecord(of id: String) async -> JobRecord? {
        guard let record = records[id], !record.state.isFinished else { return nil }
        return await withCheckedContinuation { waiter in
            completionWaiters[id, default: []].append(waiter)
        }
    }

    /// A job ended (or was cancelled before it started): whoever waits for it gets its final record.
    func ended(_ record: JobRecord) {
        for waiter in completionWaiters.removeValue(forKey: record.id) ?? [] {
            waiter.resume(returning: record)
        }
    }
}
