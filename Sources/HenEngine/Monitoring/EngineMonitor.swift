import Foundation
import HenDrivers
import HenProcess
import Logging
import Metrics

/// Status and monitoring: the engine's metrics (the queue, ended jobs, snapshot counts, the last successes
/// kept in the store), its health and its status, from what the job parts report and the store holds.
struct EngineMonitor: Sendable {
    /// Where the metrics go (the daemon's Prometheus registry; tests pass their own).
    let metrics: EngineMetrics
    let store: JobStore
    let writer: StoreWriter
    let configuration: ConfigurationInForce
    /// The snapshot lists, whose cache the snapshot counts come from.
    let snapshots: SnapshotBrowser
    /// When the engine was built: a backup that never succeeded is overdue counting from here (or from the
    /// reload that added it, ``ConfigurationInForce/appearance(ofBackup:)``).
    let createdAt: Date
    let now: @Sendable () -> Date
    let logger: Logger

    // MARK: Metrics

    func queue(queued: Int, running: Int) {
        metrics.queue(queued: queued, running: running)
    }

    /// Counters, histogram and per-backup gauges for a job that just ended.
    func jobEnded(_ record: JobRecord) {
        let seconds = record.startedAt.map { (record.endedAt ?? now()).timeIntervalSince($0) }
        metrics.jobEnded(operation: record.operation, outcome: record.state.rawValue, seconds: seconds)
        // A retry's steps are `ID#N` (N ≥ 2): one retry per repository and N.
        var retries: [String: Set<Substring>] = [:]
        for step in record.steps where !step.id.hasPrefix("hook:") {
            guard let repository = step.repository, let mark = step.id.lastIndex(of: "#") else { continue }
            retries[repository, default: []].insert(step.id[step.id.index(after: mark)...])
        }
        for (repository, tries) in retries.sorted(by: { $0.key < $1.key }) {
            metrics.retried(operation: record.operation, repository: repository, count: tries.count)
        }
        for step in record.steps {
            if step.id.hasPrefix("hook:"), step.state == .failed || step.state == .warning {
                metrics.hookFailed(backup: record.request.backup ?? record.target, phase: String(step.id.split(separator: ":")[1]))
            }
            if let repository = step.repository, step.state != .running, step.state != .skipped, step.state != .cancelled {
                metrics.repositoryOK(repository: repository, ok: step.state != .failed)
                if case .check = record.request { metrics.checkOK(repository: repository, ok: step.state != .failed) }
            }
        }
        recoveryMetrics(ofEnded: record)
        if case .backup(let backup, _) = record.request {
            let date = record.endedAt ?? now()
            for result in record.results {
                guard result.snapshotID != nil else { continue }
                metrics.lastSnapshot(backup: backup, repository: result.repository, at: date)
                metrics.backedUp(backup: backup, bytesAdded: result.bytesAdded ?? 0, filesProcessed: result.filesProcessed ?? 0)
                if record.state == .succeeded || record.state == .warning {
                    metrics.lastSuccess(backup: backup, repository: result.repository, at: date)
                }
            }
        }
    }

    /// Counts the snapshots of a finished job's repositories for `hen_repository_snapshots`. Called while
    /// the job still holds its place in the queue, so the listing never meets an exclusive job (prune,
    /// check) on the same repository. Skipped when no metrics are collected (the in-process CLI).
    func countSnapshots(of record: JobRecord) async {
        switch record.request {
        case .backup, .prune, .forget: break
        default: return
        }
        guard !(metrics.factory is NOOPMetricsHandler) else { return }
        let logger = logger.forJob(record)
        // From the snapshot cache, which the job brought up to date itself (a backup's new snapshot, what a
        // forget removed) or which is read again here when it could not (a failed run).
        for repository in record.repositories {
            do {
                try await snapshots.ensureSnapshotList(repository: repository, force: false)
                let count = try await snapshots.snapshotCatalog.store().count(repository: repository, hostname: configuration.current.hostname)
                metrics.snapshotCount(repository: repository, count: count)
            } catch {
                logger.debug("The snapshots of \(repository) cannot be counted for the metrics: \(error)", metadata: ["repository": "\(repository)"])
            }
        }
    }

    /// Sets the last-success and last-snapshot gauges from the job store, so that they are right after a
    /// restart, and the daemon's info.
    func publishStoredMetrics() async throws {
        await writer.flush()
        let configuration = self.configuration.current
        for backup in configuration.backups {
            var snapshotSeen: Set<String> = []
            var successSeen: Set<String> = []
            let records = try await store.summaries(JobFilter(states: [.succeeded, .warning, .failed], backup: backup.name, operation: .backup, limit: 200))
            for record in records {
                let date = record.endedAt ?? record.queuedAt
                for result in record.results where result.snapshotID != nil && backup.repositories.contains(result.repository) {
                    if snapshotSeen.insert(result.repository).inserted {
                        metrics.lastSnapshot(backup: backup.name, repository: result.repository, at: date)
                    }
                    if record.state != .failed, successSeen.insert(result.repository).inserted {
                        metrics.lastSuccess(backup: backup.name, repository: result.repository, at: date)
                    }
                }
            }
        }
        try await publishStoredRecoveryMetrics()
        metrics.daemonInfo(version: HenVersion.current, hostname: configuration.hostname, mode: configuration.mode.rawValue)
    }

    // MARK: Status

    /// The status from this engine's live jobs (`isLive`: whether a job is one of them), plus the queued and running jobs of another process sharing
    /// the job store (after this engine's own, in store order).
    nonisolated(nonsending) func status(now date: Date, queued: [JobRecord], running: [JobRecord], isLive: (String) -> Bool, nextRuns: [PlannedRun], watchers: [WatchStatus]) async -> EngineStatus {
        var queued = queued
        var runningRecords = running
        // Jobs of another process sharing the store (the daemon, seen from an in-process CLI).
        await writer.flush()
        if let stored = try? await store.records(states: [.queued, .running]) {
            for record in stored where !isLive(record.id) {
                if record.state == .queued { queued.append(record) } else { runningRecords.append(record) }
            }
        }
        let runningJobs = runningRecords
            .sorted { ($0.startedAt ?? $0.queuedAt) < ($1.startedAt ?? $1.queuedAt) }
            .map { record in
                EngineStatus.RunningJob(record: record, secondsSinceLastReport: date.timeIntervalSince(record.lastReportAt ?? record.startedAt ?? date))
            }
        return EngineStatus(now: date, queued: queued, running: runningJobs, nextRuns: nextRuns, maxConcurrentJobs: configuration.current.maxConcurrentJobs, watchers: watchers)
    }

    // MARK: Health

    /// Whether the job store reads and can record jobs now (``JobStore/checkWritable()``: a `job_store`
    /// problem makes the daemon `unavailable`); with `strict`, also which backups are overdue (last success older than
    /// twice their schedule interval) and which repositories failed in their last job.
    func health(strict: Bool, acceptingJobs: Bool, queued: Int, running: Int) async -> EngineHealth {
        var health = EngineHealth(acceptingJobs: acceptingJobs, queued: queued, running: running)
        await writer.flush()
        do {
            // Readable and writable: while it cannot record a job the daemon runs none.
            try await store.checkReadable()
            try await writer.checkWritable()
            // It can: records a full disk kept from it are written now.
            writer.retryPending()
        } catch {
            health.problems.append(.init(kind: "job_store", subject: store.path, message: "\(error)"))
            return health
        }
        if !acceptingJobs {
            health.problems.append(.init(kind: "engine", subject: "engine", message: "The engine is shutting down and accepts no new jobs."))
        }
        guard strict else { return health }
        let configuration = self.configuration.current
        let date = now()
        do {
            for backup in configuration.backups where !backup.schedules.isEmpty && configuration.mode == .normal {
                // Kept apart from the job history, which `job_history` trims.
                let lastSuccess = try await store.lastSuccess(operation: .backup, target: backup.name)
                // A backup added by a reload counts from then, not from the daemon's start.
                let appeared = self.configuration.appearance(ofBackup: backup.name)
                let interval = Planner.shortestInterval(backup.schedules, from: lastSuccess ?? appeared, timeZone: configuration.timeZone)
                let since = lastSuccess ?? appeared
                if date.timeIntervalSince(since) > 2 * interval {
                    let origin = appeared == createdAt ? "since the daemon started" : "since it was added to the configuration"
                    let when = lastSuccess.map { "last succeeded \(Planner.relative(date.timeIntervalSince($0))) ago" } ?? "has not succeeded \(origin) \(Planner.relative(date.timeIntervalSince(appeared))) ago"
                    health.problems.append(.init(
                        kind: "backup_overdue", subject: backup.name,
                        message: "Backup \(backup.name) \(when), more than twice its schedule interval of \(Planner.relative(interval))."
                    ))
                }
            }
            try await recoveryProblems(at: date, into: &health)
            let recent = try await store.summaries(JobFilter(states: [.succeeded, .warning, .failed], limit: 200))
            var seen: Set<String> = []
            for record in recent {
                for step in record.steps.reversed() {
                    // A repository removed from the configuration (by a reload) no longer counts.
                    guard let repository = step.repository, configuration.repositories[repository] != nil,
                        step.state == .succeeded || step.state == .warning || step.state == .failed,
                        seen.insert(repository).inserted
                    else { continue }
                    if step.state == .failed {
                        health.problems.append(.init(
                            kind: "repository_failed", subject: repository,
                            message: "Repository \(repository) failed in its last job (\(record.id), \(record.operation) \(record.target)): \(step.message ?? "no message")"
                        ))
                    }
                }
            }
        } catch {
            health.problems.append(.init(kind: "job_store", subject: store.path, message: "\(error)"))
        }
        return health
    }
}
