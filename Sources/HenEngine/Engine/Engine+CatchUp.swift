import Foundation

/// Catch-up without bursts: after downtime (a laptop waking up) every missed operation is due at once. Each
/// runs once, but they are queued in turn, not all together: the most important first, one per repository,
/// and never more waiting in the queue than `max_concurrent_jobs`. The scheduler looks again every second
/// while something is due, so the next one is queued as soon as there is room.
extension Engine {
    /// The due operations in the order they are queued: higher priority first (a backup's or prune's is its
    /// backup's, a check's `normal`), then the longest overdue, then by name.
    func inTurn(_ due: [(operation: JobOperation, run: PlannedRun)]) -> [(operation: JobOperation, run: PlannedRun)] {
        due.sorted { a, b in
            let (pa, pb) = (scheduledPriority(a.operation).queueRank, scheduledPriority(b.operation).queueRank)
            if pa != pb { return pa > pb }
            if a.run.date != b.run.date { return a.run.date < b.run.date }
            return (a.operation.kind.rawValue, a.operation.target) < (b.operation.kind.rawValue, b.operation.target)
        }
    }

    func scheduledPriority(_ operation: JobOperation) -> JobPriority {
        operation.backup.flatMap { configuration.backup(named: $0)?.priority } ?? .normal
    }

    /// Whether a due scheduled operation may be queued now: none of its repositories has a job queued or
    /// running here, and fewer than `max_concurrent_jobs` jobs wait in the queue.
    func mayQueueScheduled(_ operation: JobOperation) -> Bool {
        let repositories = Set(operation.repositories(in: configuration))
        let busy = active.values.contains { !repositories.isDisjoint(with: $0.repositories) }
        let waiting = active.values.filter { $0.state == .queued }.count
        return !busy && waiting < configuration.maxConcurrentJobs
    }
}
