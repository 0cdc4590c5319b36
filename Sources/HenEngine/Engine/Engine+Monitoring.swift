import Foundation
import HenDrivers
import HenProcess
import Logging
import Metrics

extension Engine {
    // MARK: Log identity

    /// What every log line of a job carries: trigger → job → operation → backup/repository. Steps add
    /// `step` and `repository`, drivers and hooks add `component`.
    static func identity(of record: JobRecord) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "job_id": "\(record.id)", "operation": "\(record.operation)", "target": "\(record.target)", "trigger": "\(record.trigger.kind)",
        ]
        switch record.trigger {
        case .schedule(let text): metadata["schedule"] = "\(text)"
        case .watch(let paths, let count):
            metadata["watch_paths"] = .array(paths.map { .string($0) })
            metadata["watch_changes"] = "\(count)"
        default: break
        }
        if let backup = record.request.backup { metadata["backup"] = "\(backup)" }
        if record.repositories.count == 1 { metadata["repository"] = "\(record.repositories[0])" }
        return metadata
    }

    /// The engine's logger with a job's identity.
    func logger(for record: JobRecord) -> Logger {
        var jobLogger = logger
        for (key, value) in Self.identity(of: record) { jobLogger[metadataKey: key] = value }
        return jobLogger
    }

    // MARK: Metrics

    func publishQueueMetrics() {
        metrics.queue(queued: active.values.filter { $0.state == .queued }.count, running: running.count)
    }

    /// Counters, histogram and per-backup gauges for a job that just ended.
    func publishMetrics(ofEnded record: JobRecord) {
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
        let logger = logger(for: record)
        for repository in record.repositories {
            guard let driver = try? driver(forRepository: repository, niceness: Niceness(), logger: logger) else { continue }
            var count = 0
            do {
                for try await _ in driver.snapshots(SnapshotFilter()) { count += 1 }
                metrics.snapshotCount(repository: repository, count: count)
            } catch {
                logger.debug("The snapshots of \(repository) cannot be counted for the metrics: \(error)", metadata: ["repository": "\(repository)"])
            }
        }
    }

    /// Sets the last-success and last-snapshot gauges from the job store, so that they are right after a
    /// restart. The daemon calls it at start (``recover()`` does).
    public func publishStoredMetrics() async throws {
        await writer.flush()
        for backup in configuration.backups {
            var snapshotSeen: Set<String> = []
            var successSeen: Set<String> = []
            let records = try await store.records(JobFilter(states: [.succeeded, .warning, .failed], backup: backup.name, operation: .backup, limit: 200))
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
        publishQueueMetrics()
        metrics.daemonInfo(version: HenVersion.current, hostname: configuration.hostname, mode: configuration.mode.rawValue)
    }

    // MARK: Health

    /// Whether the engine answers and its job store reads; with `strict`, also which backups are overdue
    /// (last success older than twice their schedule interval) and which repositories failed in their last
    /// job.
    public func health(strict: Bool) async -> EngineHealth {
        var health = EngineHealth(acceptingJobs: acceptingJobs, queued: active.values.filter { $0.state == .queued }.count, running: running.count)
        await writer.flush()
        do {
            // Readable and writable: while it cannot record a job the daemon runs none.
            _ = try await store.count()
            try await store.checkWritable()
            writer.retryPending()
        } catch {
            health.problems.append(.init(kind: "job_store", subject: store.path, message: "\(error)"))
            return health
        }
        if !acceptingJobs {
            health.problems.append(.init(kind: "engine", subject: "engine", message: "The engine is shutting down and accepts no new jobs."))
        }
        guard strict else { return health }
        let date = now()
        do {
            for backup in configuration.backups where !backup.schedules.isEmpty && configuration.mode == .normal {
                // Kept apart from the job history, which `job_history` trims.
                let lastSuccess = try await store.lastSuccess(operation: .backup, target: backup.name)
                // A backup added by a reload counts from then, not from the daemon's start.
                let appeared = appearance(ofBackup: backup.name)
                let interval = Self.shortestInterval(backup.schedules, from: lastSuccess ?? appeared, timeZone: configuration.timeZone)
                let since = lastSuccess ?? appeared
                if date.timeIntervalSince(since) > 2 * interval {
                    let origin = appeared == createdAt ? "since the daemon started" : "since it was added to the configuration"
                    let when = lastSuccess.map { "last succeeded \(Self.relative(date.timeIntervalSince($0))) ago" } ?? "has not succeeded \(origin) \(Self.relative(date.timeIntervalSince(appeared))) ago"
                    health.problems.append(.init(
                        kind: "backup_overdue", subject: backup.name,
                        message: "Backup \(backup.name) \(when), more than twice its schedule interval of \(Self.relative(interval))."
                    ))
                }
            }
            let recent = try await store.records(JobFilter(states: [.succeeded, .warning, .failed], limit: 200))
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

    /// The shortest time between two runs of any of the schedules, measured from `date`.
    static func shortestInterval(_ schedules: [Schedule], from date: Date, timeZone: TimeZone) -> TimeInterval {
        schedules.map { schedule in
            let next = schedule.nextDate(lastRun: date, now: date, timeZone: timeZone)
            return max(1, next.timeIntervalSince(date))
        }.min() ?? .infinity
    }
}
