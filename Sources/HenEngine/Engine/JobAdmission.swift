import Foundation
import Logging

/// Where a job is admitted: a request is checked against the configuration in force (``validate(_:configuration:restoreScope:)``),
/// gets its priority and its record, and is queued, unless an identical queued job answers for it. Owns
/// the ``JobQueue`` and whether jobs are accepted at all; ``JobExecution`` takes the jobs the queue releases.
///
/// It lives on the engine's executor: its async methods run on their caller's, so the live records
/// (``LiveJobs``) it shares with execution change only there.
final class JobAdmission {
    /// What ``submit(_:)`` did with a request.
    struct Admitted {
        /// The new job's record, or the identical queued job's.
        var record: JobRecord
        /// A new job was queued: the queue may start it now.
        var isNew: Bool
        /// The identical queued job's priority was raised: the queue may start it now.
        var priorityRaised = false
    }

    /// Priority order, dedup of identical queued jobs, repository collisions, `max_concurrent_jobs`.
    let queue: JobQueue
    /// False from the start of a shutdown on: no new job is admitted and nothing more starts.
    private(set) var acceptingJobs = true
    private let live: LiveJobs
    private let configuration: ConfigurationInForce
    private let restoreScope: RestoreScope
    private let writer: StoreWriter
    private let eventBus: EventBus
    private let now: @Sendable () -> Date
    private let logger: Logger

    init(queue: JobQueue, live: LiveJobs, configuration: ConfigurationInForce, restoreScope: RestoreScope, writer: StoreWriter, eventBus: EventBus, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.queue = queue
        self.live = live
        self.configuration = configuration
        self.restoreScope = restoreScope
        self.writer = writer
        self.eventBus = eventBus
        self.now = now
        self.logger = logger
    }

    /// Checks and queues a request. An identical queued job (same operation and target) is not queued
    /// twice: its record is the answer, with its priority raised when this request's is higher.
    nonisolated(nonsending) func submit(_ request: JobRequest) async throws -> Admitted {
        guard acceptingJobs else {
            throw EngineError(.shuttingDown, "The engine is shutting down and accepts no new \(request.operation.name) job for \(request.operation.target).")
        }
        let configuration = self.configuration.current
        let repositories = try Self.validate(request.operation, configuration: configuration, restoreScope: restoreScope)
        let priority = request.priority ?? configuration.defaultPriority(of: request.operation)
        let record = JobRecord(id: JobID.make(at: now()), request: request.operation, trigger: request.trigger, priority: priority, repositories: repositories, queuedAt: now())
        // Recorded before the queue sees it: once queued it may start at any moment, and its `running`
        // record must never be overwritten by this `queued` one. A job that cannot be recorded is not run:
        // its record is written first, or the request refused (`store_unavailable`) and nothing queued.
        let duplicate = live.contains(record.request, queuedOnly: true)
        if !duplicate { try await admit(record) }
        let admission = await queue.enqueue(JobQueue.Entry(id: record.id, operation: record.request, priority: priority, repositories: repositories))
        switch admission {
        case .queued:
            // The identical job seen above was being started meanwhile: this one is new after all.
            if duplicate {
                do {
                    try await admit(record)
                } catch {
                    _ = await queue.remove(id: record.id)
                    throw error
                }
            }
            return Admitted(record: record, isNew: true)
        case .existing(let id, let newPriority):
            if !duplicate {
                // An identical request was admitted while this one's record was being written (the write
                // suspends): this one is recorded as the duplicate it turned out to be.
                var dropped = live.remove(record.id) ?? record
                dropped.state = .cancelled
                dropped.endedAt = now()
                dropped.error = "An identical job (\(id)) was already queued."
                writer.save(dropped)
            }
            guard var existing = live[id] else {
                throw EngineError(.conflict, "Job \(id) for \(record.target) ended while the request was being queued.")
            }
            guard existing.priority != newPriority else { return Admitted(record: existing, isNew: false) }
            existing.priority = newPriority
            live[id] = existing
            writer.save(existing)
            logger.log(job: existing, "An identical request raised the job's priority to \(newPriority).")
            return Admitted(record: existing, isNew: false, priorityRaised: true)
        }
    }

    /// Records a new job as `queued` (written before anything else happens), or throws `.storeUnavailable`
    /// and leaves no trace: the job store cannot record it now (``StoreWriter/saveChecked(_:)``).
    private nonisolated(nonsending) func admit(_ record: JobRecord) async throws {
        do {
            try await writer.saveChecked(record)
        } catch where JobStore.isUnavailable(error) {
            let reason = (error as? EngineError)?.message ?? "\(error)"
            logger.error("A \(record.operation) job for \(record.target) was refused: it cannot be recorded. \(reason)")
            throw EngineError(.storeUnavailable, "The \(record.operation) job for \(record.target) was not queued because it could not be recorded: \(reason)")
        }
        live[record.id] = record
        eventBus.emit(.state(jobID: record.id, state: .queued, record: record))
        logger.log(job: record, "Job queued (\(record.trigger), priority \(record.priority)).")
    }

    /// Queues again a job recorded `queued` before a restart (``Engine/recover()``); false, and the record
    /// left to the caller, when an identical job is queued already. Throws when it no longer fits the
    /// configuration.
    nonisolated(nonsending) func requeue(_ record: JobRecord) async throws -> Bool {
        _ = try Self.validate(record.request, configuration: configuration.current, restoreScope: restoreScope)
        live[record.id] = record
        switch await queue.enqueue(JobQueue.Entry(id: record.id, operation: record.request, priority: record.priority, repositories: record.repositories)) {
        case .queued:
            return true
        case .existing:
            live.remove(record.id)
            return false
        }
    }

    /// A reloaded configuration's limits for the queue: they apply to the next job started.
    nonisolated(nonsending) func reconfigure(_ configuration: Configuration, concurrentBackupRepositories: Set<String>) async {
        await queue.reconfigure(maxConcurrentJobs: configuration.maxConcurrentJobs, concurrentBackupRepositories: concurrentBackupRepositories)
    }

    /// From the start of a shutdown on: no new job, and nothing queued starts.
    func stopAccepting() {
        acceptingJobs = false
    }

    /// Checks a request against the configuration; returns the repositories it touches.
    static func validate(_ operation: JobOperation, configuration: Configuration, restoreScope: RestoreScope) throws -> [String] {
        // The named backup or repository must exist first, so that an unknown name is "not found" in every mode.
        if operation.backup == nil, configuration.repositories[operation.target] == nil {
            throw configuration.unknownRepository(operation.target)
        }
        if let backupName = operation.backup, configuration.backup(named: backupName) == nil {
            throw configuration.unknownBackup(backupName)
        }
        if configuration.mode == .recovery {
            switch operation {
            // A restore writes to local disk only; a check reads the repository with --no-lock (it repairs
            // nothing), so a dead machine's repository can be verified before its files are restored. A drill
            // reads like a restore and writes only below data_dir (its private directory, its record).
            case .restore, .check, .drill: break
            default:
                let article = operation.name.first.map { "aeiou".contains($0) } == true ? "an" : "a"
                throw EngineError(.readOnly, "The configuration is in recovery mode: \(article) \(operation.name) job for \(operation.target) would write to a repository.")
            }
        }
        if let backupName = operation.backup {
            guard let backup = configuration.backup(named: backupName) else {
                throw configuration.unknownBackup(backupName)
            }
            if case .backup(_, let chosen?) = operation {
                if chosen.isEmpty {
                    throw EngineError(.invalidRequest, "A backup of \(backupName) needs at least one repository.")
                }
                if let stranger = chosen.first(where: { !backup.repositories.contains($0) }) {
                    throw EngineError(.invalidRequest, "Backup \(backupName) does not use repository \(stranger) (it uses \(backup.repositories.joined(separator: ", "))).")
                }
            }
            if case .prune = operation, backup.retention?.isEmpty ?? true {
                throw EngineError(.invalidRequest, "Backup \(backupName) has no retention policy, so there is nothing to prune by.")
            }
        }
        let repositories = operation.repositories(in: configuration)
        if let unknown = repositories.first(where: { configuration.repositories[$0] == nil }) {
            throw configuration.unknownRepository(unknown)
        }
        if case .restore(_, _, let target, _) = operation {
            // An early answer; the restore checks again when it starts (RestoreStaging), since the disk may
            // change while it waits in the queue.
            switch restoreScope {
            case .allowedTargets: _ = try RestoreTarget.locate(target, allowedTargets: configuration.restore.allowedTargets)
            case .anywhere: try RestoreTarget.checkSpelling(target)
            }
        }
        if case .check(let repository, let subset?) = operation, !ConfigurationReader.isReadDataSubset(subset) {
            // Refused before it runs: a check failed for a typo would look like a damaged repository.
            throw EngineError(.invalidRequest, "read_data_subset \"\(subset)\" for repository \(repository) is not a percentage (5%), a fraction (1/10) or a size (500M).")
        }
        if case .forget(_, let snapshots) = operation, snapshots.isEmpty {
            throw EngineError(.invalidRequest, "A forget job needs at least one snapshot id.")
        }
        return repositories
    }
}
