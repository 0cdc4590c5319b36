import Foundation
import HenDrivers
import Logging

extension Engine {
    /// What ``recover()`` found and did at start.
    public struct Recovery: Sendable, Hashable {
        /// Jobs a crash or a hard stop left `running`, now `interrupted`.
        public var interrupted: [String]
        /// Unlock jobs queued for their repositories.
        public var unlocks: [String]
        /// Jobs queued before the restart, queued again.
        public var requeued: [String]
        /// Jobs queued before the restart that no longer fit the configuration, now `cancelled`.
        public var dropped: [String]
        /// Old records deleted by the history retention.
        public var deleted: Int
        /// Interrupted backups whose snapshots were all written (found by their `job=` tag): now `succeeded`.
        public var settled: [String] = []
        /// Driver processes (restic) the previous run left running, stopped before the unlocks.
        public var leftoverProcesses = 0
    }

    /// For the daemon, once at start: stops driver processes its previous run left, marks jobs left
    /// `running` as `interrupted` (or `succeeded` when their snapshots exist) and queues an unlock of their
    /// repositories (stale locks), queues again what was queued, enforces the history retention.
    @discardableResult
    public func recover() async throws -> Recovery {
        var recovery = Recovery(interrupted: [], unlocks: [], requeued: [], dropped: [], deleted: 0)
        // No drill runs yet: whatever is below data_dir/drills was left by one that never ended.
        RestoreDrill.removeLeftovers(dataDirectory: configuration.dataDirectory)
        // Before the unlocks are queued: no lock may still be held alive by a restic of ours.
        recovery.leftoverProcesses = await interruptedJobs.stopLeftoverProcesses()
        let interrupted = try await store.markRunningInterrupted(at: now(), reason: "The daemon stopped while the job ran; it was found running at the next start.")
        recovery.settled = await interruptedJobs.settle(interrupted).map(\.id)
        // Read before the unlocks below are submitted: those are this engine's own, and the store may still
        // call one queued after it ran (writes are batched).
        let queuedAtStart = try await store.records(states: [.queued])
        var repositoriesToUnlock: [String] = []
        for record in interrupted {
            recovery.interrupted.append(record.id)
            if !recovery.settled.contains(record.id) {
                logger.log(job: record, "Job found running at start: recorded as interrupted.", level: .warning)
            }
            for repository in record.repositories where !repositoriesToUnlock.contains(repository) {
                repositoriesToUnlock.append(repository)
            }
        }
        if configuration.mode == .normal {
            for repository in repositoriesToUnlock where configuration.repositories[repository] != nil {
                let supportsLocks = (try? driver(forRepository: repository))?.capabilities.contains(.locks) ?? false
                guard supportsLocks else { continue }
                let record = try await submit(JobRequest(operation: .unlock(repository: repository), trigger: .startup, priority: .next))
                recovery.unlocks.append(record.id)
            }
        }
        for var record in queuedAtStart where live[record.id] == nil {
            do {
                if try await admission.requeue(record) {
                    recovery.requeued.append(record.id)
                } else {
                    // An identical job is queued already (an unlock queued just now, say).
                    record.state = .cancelled
                    record.endedAt = now()
                    record.error = "An identical job was already queued at start."
                    writer.save(record)
                    recovery.dropped.append(record.id)
                }
            } catch {
                record.state = .cancelled
                record.endedAt = now()
                record.error = "Dropped at start: \(error)"
                writer.save(record)
                recovery.dropped.append(record.id)
            }
        }
        recovery.deleted = try await enforceHistoryRetention()
        await writer.flush()
        // Metrics start from the store, not from zero: last successes survive a restart.
        try await publishStoredMetrics()
        await execution.dispatch()
        return recovery
    }

    /// Deletes records older than `job_history.keep` and beyond `job_history.max_jobs`; returns how many.
    @discardableResult
    public func enforceHistoryRetention() async throws -> Int {
        await writer.flush()
        let keep = Double(configuration.jobHistory.keep.components.seconds)
        let deleted = try await store.enforceRetention(endedBefore: now().addingTimeInterval(-keep), maxJobs: configuration.jobHistory.maxJobs)
        if deleted > 0 { logger.info("Deleted \(deleted) old job records (job_history).") }
        return deleted
    }

    /// For the daemon's end: accepts no new jobs, lets running jobs finish for `grace`, then stops them
    /// cleanly and records them `interrupted`. Queued jobs stay queued in the store for the next start.
    public func shutdown(grace: Duration) async {
        admission.stopAccepting()
        if !execution.running.isEmpty {
            logger.notice("Shutting down: waiting up to \(DurationText.format(grace)) for \(execution.running.count) running job(s).")
            let clock = self.clock
            let timer = Task {
                do { try await clock.sleep(for: grace) } catch { return }
                self.stopAll(message: "The daemon stopped; the job did not finish within shutdown_grace (\(DurationText.format(grace))).")
            }
            await execution.waitUntilNoneRunning()
            timer.cancel()
        }
        await close()
    }

    /// Stops every running job at once (drivers interrupt their child processes, which get ``urgentGrace``
    /// to clean up before SIGKILL; restic's lock is then removed by `restic unlock`), recording them
    /// `interrupted`, and waits until they have stopped. For a second signal.
    public func stopNow() async {
        admission.stopAccepting()
        hurryStops()
        execution.stopAll(message: "The daemon was told to stop at once while the job ran.")
        await execution.waitUntilNoneRunning()
    }

    /// How long a child process may clean up after SIGINT when the daemon is told twice to stop.
    public static let urgentGrace: Duration = .seconds(3)

    /// Jobs being stopped, and those stopped later, give their child processes only ``urgentGrace`` after
    /// SIGINT before SIGKILL (restic's lock is then removed with `restic unlock`). For a second Ctrl-C.
    public nonisolated func hurryStops() {
        childUrgency.hurry(grace: Self.urgentGrace)
    }

    func stopAll(message: String) {
        execution.stopAll(message: message)
    }

    /// Writes what is pending and ends every event stream.
    func close() async {
        await writer.flush()
        eventBus.close()
    }

    /// What a daemon that died left behind (``InterruptedJobs``).
    var interruptedJobs: InterruptedJobs {
        InterruptedJobs(configuration: configurationInForce, drivers: drivers, writer: writer, clock: clock, logger: logger)
    }

    /// For the watchdog: writes the records a full disk kept from the store once it has room, writes the
    /// progress held back by the throttle, records a warning in every running job that reported nothing for
    /// `stall_warning` (once per silence), and returns the status.
    public func watchdogTick() async -> EngineStatus {
        // Records a full disk kept from the store are written again once it has room.
        writer.retryPending()
        execution.watchdogTick()
        return await status()
    }
}
