import Foundation
import HenDrivers

/// Status, schedules and monitoring: the facade asks ``Planner`` and ``EngineMonitor``, with the live jobs.
extension Engine {
    /// The queue, the running jobs with their progress and how long since their driver last reported,
    /// and the next scheduled runs with the reason for each. Includes the queued and running jobs of
    /// another process sharing the job store (after this engine's own, in store order).
    public func status() async -> EngineStatus {
        let date = now()
        let queued = await queue.queuedEntries.compactMap { live[$0.id] }
        let running = execution.running.keys.compactMap { live[$0] }
        let nextRuns: [PlannedRun]
        do {
            nextRuns = try await plannedRuns()
        } catch {
            logger.error("The next runs cannot be planned: \(error)")
            nextRuns = []
        }
        let watchers = await execution.watchService?.status() ?? []
        return await monitor.status(now: date, queued: queued, running: running, isLive: { self.live[$0] != nil }, nextRuns: nextRuns, watchers: watchers)
    }

    /// The planner for the configuration in force.
    var planner: Planner { Planner(configuration: configuration, createdAt: createdAt) }

    /// Every scheduled operation (backups, prunes, checks) with its next run, soonest first. Last runs come
    /// from the job store. In recovery mode nothing is scheduled.
    public func plannedRuns() async throws -> [PlannedRun] {
        await writer.flush()
        let store = self.store
        return try await planner.plannedRuns(now: now()) { operation in
            try await store.lastRun(operation: operation.kind, target: operation.target)
        }
    }

    /// Submits every scheduled operation that is due; returns the jobs (new or already queued).
    @discardableResult
    public func submitDueJobs() async throws -> [JobRecord] {
        let date = now()
        let planner = self.planner
        var submitted: [JobRecord] = []
        for item in planner.scheduledOperations {
            // A job of this operation already queued or running here is the run: nothing more to do.
            if live.contains(item.operation) { continue }
            let lastRun = try await store.lastRun(operation: item.operation.kind, target: item.operation.target)
            // Only the date: the planned run's sentence formats dates, which costs more than all the rest.
            guard let due = planner.nextRun(schedules: item.schedules, lastRun: lastRun, now: date), due.date <= date else { continue }
            do {
                submitted.append(try await submit(JobRequest(operation: item.operation, trigger: .schedule("\(due.schedule)"))))
            } catch let error as EngineError where error.code == .shuttingDown {
                break
            } catch {
                logger.error("The scheduled \(item.operation.name) of \(item.operation.target) cannot be queued: \(error)")
            }
        }
        return submitted
    }

    /// `45s`, `12m`, `2h`, `3d`: a span in its largest whole unit.
    public static func relative(_ seconds: Double) -> String {
        Planner.relative(seconds)
    }

    /// Whether the engine answers and its job store reads; with `strict`, also which backups are overdue
    /// (last success older than twice their schedule interval) and which repositories failed in their last
    /// job.
    public func health(strict: Bool) async -> EngineHealth {
        await monitor.health(strict: strict, acceptingJobs: admission.acceptingJobs, queued: live.queuedCount, running: execution.running.count)
    }

    /// Sets the last-success and last-snapshot gauges from the job store, so that they are right after a
    /// restart. The daemon calls it at start (``recover()`` does).
    public func publishStoredMetrics() async throws {
        try await monitor.publishStoredMetrics()
        execution.publishQueueMetrics()
    }
}
