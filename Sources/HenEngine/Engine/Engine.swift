import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Logging
import Metrics
import Synchronization

/// The facade: everything the CLI, the API and the UI can do is a method here.
///
/// Jobs go in through ``submit(_:)`` (or ``runInProcess(_:onEvent:)`` for the in-process CLI), wait in the
/// ``JobQueue``, run with a ``JobRunner`` and are recorded in the ``JobStore``. A daemon calls ``recover()``
/// once at start (interrupted jobs, re-queued jobs, history retention) and ``shutdown(grace:)`` at the end;
/// an in-process CLI does neither, so it never touches jobs that belong to a running daemon.
public actor Engine {
    /// The configuration in force: the one the engine was built with, until ``reload(_:)`` replaces it.
    public nonisolated var configuration: Configuration { configurationState.withLock { $0 } }
    nonisolated let configurationState: Mutex<Configuration>
    /// Every secret of the configuration in force, redacted from job records, the store, the API's answers
    /// and (when the process's log handler shares it) every log line.
    public nonisolated let secrets: ConfigurationSecrets
    public nonisolated let registry: DriverRegistry
    /// Where this engine's restores may write: a daemon's stay below `restore.allowed_targets`.
    public nonisolated let restoreScope: RestoreScope
    public nonisolated let store: JobStore
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    let logger: Logger
    let hooks: (any HookExecuting)?
    let queue: JobQueue
    let writer: StoreWriter
    /// The snapshot list cache and tree index (`data_dir/snapshots.sqlite`), opened on first use.
    nonisolated let snapshotCatalog: SnapshotCatalog
    /// Where the engine's metrics go (``metricsFactory`` is what HenServer's `/metrics` reads).
    let metrics: EngineMetrics
    public nonisolated var metricsFactory: any MetricsFactory { metrics.factory }

    /// Queued and running jobs of this engine; finished ones live in the store only.
    var active: [String: JobRecord] = [:]
    var running: [String: RunningJob] = [:]
    /// The child processes of this engine's jobs (drivers, command hooks): hurried by ``stopNow()``.
    nonisolated let childUrgency = ChildStopUrgency()
    var subscribers: [UUID: Subscriber] = [:]
    var completionWaiters: [String: [CheckedContinuation<JobRecord, Never>]] = [:]
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    var acceptingJobs = true
    /// Set by ``close()``: event streams asked for afterwards end at once.
    var eventsClosed = false
    /// The daemon's command-line overrides (`--read-only`, `--hostname`), applied to every reloaded file too.
    var overrides = ConfigurationOverrides()
    /// The daemon's watchers, once ``makeWatchService(logger:)`` made them.
    var watchService: WatchService?
    /// Jobs cancelled while being taken from the queue (between the queue and `start`).
    var cancelRequests: Set<String> = []
    /// When this engine was built: a cron schedule that never ran counts from here.
    let createdAt: Date
    /// When backups and repositories added by a reload appeared (`backup:NAME`, `repository:NAME`): they
    /// count from then, not from ``createdAt`` (see `Engine+Appearance.swift`).
    var appearances: [String: Date] = [:]

    struct RunningJob {
        var task: Task<Void, Never>?
        var timer: Task<Void, Never>?
        /// Why it is being stopped, once someone asked: `cancelled`, `timed_out` or `interrupted`.
        var stopReason: JobState?
        var stopMessage: String?
        var lastPersist: Date
        var dirty = false
        var lastProgressEvent: Date?
        /// The watchdog warned about silence since this report time.
        var stallWarnedSince: Date?
    }

    struct Subscriber {
        var jobID: String?
        var continuation: AsyncStream<JobEvent>.Continuation
    }

    /// - Parameter secrets: the redactor to keep up to date with the configuration (the one the process's
    ///   log handler uses); a new one by default.
    public init(configuration: Configuration, registry: DriverRegistry, store: JobStore, clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = Date.init, logger: Logger, hooks: (any HookExecuting)? = nil, metrics: (any MetricsFactory)? = nil, restoreScope: RestoreScope = .allowedTargets, secrets: ConfigurationSecrets? = nil) {
        self.configurationState = Mutex(configuration)
        self.restoreScope = restoreScope
        let secrets = secrets ?? ConfigurationSecrets(configuration)
        secrets.update(from: configuration)
        self.secrets = secrets
        self.metrics = EngineMetrics(factory: metrics ?? MetricsSystem.factory)
        self.registry = registry
        self.store = store
        self.clock = clock
        self.now = now
        self.logger = logger
        self.hooks = hooks
        self.createdAt = now()
        self.writer = StoreWriter(store: store, secrets: secrets, logger: logger)
        self.snapshotCatalog = SnapshotCatalog(dataDirectory: configuration.dataDirectory)
        self.queue = JobQueue(maxConcurrentJobs: configuration.maxConcurrentJobs, concurrentBackupRepositories: Self.concurrentBackupRepositories(configuration, registry: registry, logger: logger))
    }

    /// Backups share a repository only when its driver says it can take several at once.
    static func concurrentBackupRepositories(_ configuration: Configuration, registry: DriverRegistry, logger: Logger) -> Set<String> {
        var concurrent: Set<String> = []
        for name in configuration.repositories.keys {
            if let driver = try? configuration.makeDriver(forRepository: name, registry: registry, logger: logger),
                driver.capabilities.contains(.concurrentBackups)
            {
                concurrent.insert(name)
            }
        }
        return concurrent
    }

    /// Opens the job store in `data_dir` and builds an engine on it that runs hooks with HenHooks'
    /// ``HookRunner``.
    /// - Parameters:
    ///   - role: for an engine that runs jobs ("daemon", "backup job"): the data directory is claimed first
    ///     (``DataDirectoryLock``), and a second such process stops before touching anything.
    ///   - restoreScope: a daemon's (the default) restores only below `restore.allowed_targets`.
    public static func open(configuration: Configuration, registry: DriverRegistry, logger: Logger, metrics: (any MetricsFactory)? = nil, exclusiveAs role: String? = nil, restoreScope: RestoreScope = .allowedTargets, secrets: ConfigurationSecrets? = nil) async throws -> Engine {
        let store = try JobStore(dataDirectory: configuration.dataDirectory, exclusiveAs: role)
        var hookLogger = logger
        hookLogger[metadataKey: "component"] = "hooks"
        return Engine(configuration: configuration, registry: registry, store: store, logger: logger, hooks: HookRunner(logger: hookLogger), metrics: metrics, restoreScope: restoreScope, secrets: secrets)
    }

    // MARK: Drivers

    /// The driver of a repository, built from the registry with this configuration's host, executables,
    /// a cache below `data_dir/cache` and default niceness.
    public nonisolated func driver(forRepository name: String) throws -> any BackupDriver {
        try driver(forRepository: name, niceness: Niceness())
    }

    /// `limits` (a backup's, for its prune) combine with the repository's and the global ones: per direction
    /// the smallest wins, for every operation (downloads, restores and checks included).
    nonisolated func driver(forRepository name: String, niceness: Niceness, limits: TransferLimits = TransferLimits(), logger base: Logger? = nil) throws -> any BackupDriver {
        try configuration.makeDriver(forRepository: name, registry: registry, niceness: niceness, limits: limits, logger: base ?? logger)
    }

    // MARK: Submitting

    /// Queues a job and returns its record. An identical queued job (same operation and target) is not
    /// queued twice: its record is returned, with its priority raised when this request's is higher.
    public func submit(_ request: JobRequest) async throws -> JobRecord {
        guard acceptingJobs else {
            throw EngineError(.shuttingDown, "The engine is shutting down and accepts no new \(request.operation.name) job for \(request.operation.target).")
        }
        let repositories = try validate(request.operation)
        let priority = request.priority ?? request.operation.backup.flatMap { configuration.backup(named: $0)?.priority } ?? .normal
        let record = JobRecord(id: JobID.make(at: now()), request: request.operation, trigger: request.trigger, priority: priority, repositories: repositories, queuedAt: now())
        // Recorded before the queue sees it: once queued it may start at any moment, and its `running`
        // record must never be overwritten by this `queued` one.
        // A job that cannot be recorded is not run: its record is written (or the request refused) first.
        let duplicate = active.values.contains { $0.state == .queued && $0.request == record.request }
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
            await dispatch()
            return active[record.id] ?? record
        case .existing(let id, let newPriority):
            if !duplicate {
                // An identical request admitted while this one's record was being written: keep the store true.
                var dropped = active.removeValue(forKey: record.id) ?? record
                dropped.state = .cancelled
                dropped.endedAt = now()
                dropped.error = "An identical job (\(id)) was already queued."
                writer.save(dropped)
            }
            guard var existing = active[id] else {
                throw EngineError(.conflict, "Job \(id) for \(record.target) ended while the request was being queued.")
            }
            if existing.priority != newPriority {
                existing.priority = newPriority
                active[id] = existing
                writer.save(existing)
                log(existing, "An identical request raised the job's priority to \(newPriority).")
                await dispatch()
            }
            return existing
        }
    }

    /// Records a new job as `queued`, or throws `.storeUnavailable` (nothing else happens then).
    private func admit(_ record: JobRecord) async throws {
        do {
            try await store.checkWritable()
            try await writer.saveChecked(record)
        } catch where JobStore.isUnavailable(error) {
            let reason = (error as? EngineError)?.message ?? "\(error)"
            logger.error("A \(record.operation) job for \(record.target) was refused: it cannot be recorded. \(reason)")
            throw EngineError(.storeUnavailable, "The \(record.operation) job for \(record.target) was not queued because it could not be recorded: \(reason)")
        }
        active[record.id] = record
        emit(.state(jobID: record.id, state: .queued, record: record))
        publishQueueMetrics()
        log(record, "Job queued (\(record.trigger), priority \(record.priority)).")
    }

    /// Runs one job now in this process (for the in-process CLI): recorded in the store, started past the
    /// concurrency limit but never beside a job it collides with, and its events passed to `onEvent`.
    /// Cancelling the calling task cancels the job cleanly. Returns the final record.
    public func runInProcess(_ request: JobRequest, onEvent: @escaping @Sendable (JobEvent) -> Void) async throws -> JobRecord {
        let (stream, token) = subscribe(jobID: nil)
        defer { unsubscribe(token) }
        var immediate = request
        immediate.priority = .immediate
        let record = try await submit(immediate)
        let id = record.id
        await withTaskCancellationHandler {
            for await event in stream where event.jobID == id {
                onEvent(event)
                if case .state(_, let state, _) = event, state.isFinished { break }
            }
        } onCancel: {
            Task { _ = try? await self.cancel(jobID: id) }
        }
        return try await waitForCompletion(jobID: id)
    }

    // MARK: Cancelling

    /// Cancels a job: a queued one is removed from the queue, a running one is stopped cleanly (this waits
    /// until it has stopped). Returns the final record. Throws `.notFound` for an unknown job and
    /// `.conflict` for one that already ended or runs in another process.
    public func cancel(jobID: String) async throws -> JobRecord {
        if running[jobID] != nil {
            stop(jobID: jobID, reason: .cancelled, message: "Cancelled by request while it ran.")
            return try await waitForCompletion(jobID: jobID)
        }
        if var record = active[jobID] {
            if await queue.remove(id: jobID) {
                active[jobID] = nil
                record.state = .cancelled
                record.endedAt = now()
                record.error = "Cancelled by request before it started."
                writer.save(record)
                emit(.state(jobID: jobID, state: .cancelled, record: record))
                log(record, "Job cancelled before it started.")
                resumeWaiters(of: record)
                await dispatch()
                return record
            }
            // It started meanwhile, or is about to: dispatch sees the request before starting it.
            if running[jobID] != nil { return try await cancel(jobID: jobID) }
            cancelRequests.insert(jobID)
            return try await waitForCompletion(jobID: jobID)
        }
        await writer.flush()
        guard var record = try await store.record(id: jobID) else {
            throw EngineError(.notFound, "There is no job \(jobID).")
        }
        switch record.state {
        case .queued:
            // Queued by another process (the daemon): marked here, and that process skips it.
            record.state = .cancelled
            record.endedAt = now()
            record.error = "Cancelled by request before it started."
            try await store.save(record)
            return record
        case .running:
            throw EngineError(.conflict, "Job \(jobID) runs in another process (the daemon); cancel it through the daemon.")
        default:
            throw EngineError(.conflict, "Job \(jobID) already ended (\(record.state.rawValue)).")
        }
    }

    // MARK: Reading

    /// The record of a job, live while it is queued or running; nil when there is no such job.
    public func job(id: String) async throws -> JobRecord? {
        if let record = active[id] { return record }
        await writer.flush()
        return try await store.record(id: id)
    }

    /// Records matching `filter`, newest first, at most `filter.limit` (live for this engine's jobs).
    public func jobs(_ filter: JobFilter) async throws -> [JobRecord] {
        await writer.flush()
        return try await store.records(filter).map { active[$0.id] ?? $0 }
    }

    /// Waits until a job has ended and returns its final record. Throws `.notFound` for an unknown job.
    public func waitForCompletion(jobID: String) async throws -> JobRecord {
        if let record = active[jobID], !record.state.isFinished {
            return await withCheckedContinuation { waiter in
                completionWaiters[jobID, default: []].append(waiter)
            }
        }
        await writer.flush()
        guard let record = try await store.record(id: jobID) else {
            throw EngineError(.notFound, "There is no job \(jobID).")
        }
        return record
    }

    // MARK: Events

    /// Live events of one job, or of every job when `jobID` is nil. The stream ends when the consumer
    /// stops iterating or the engine shuts down; slow consumers lose the oldest events beyond 1000.
    public func events(jobID: String?) -> AsyncStream<JobEvent> {
        subscribe(jobID: jobID).stream
    }

    /// A job's record and its live events from that moment on, taken together: an event is either already
    /// in the record or comes through the stream, never both. Nil when there is no such job.
    public func recordAndEvents(jobID: String) async throws -> (record: JobRecord, events: AsyncStream<JobEvent>)? {
        let (stream, token) = subscribe(jobID: jobID)
        // No suspension between subscribing and reading a live record: nothing can be emitted in between.
        if let record = active[jobID] { return (record, stream) }
        guard let record = try await job(id: jobID) else {
            unsubscribe(token)
            return nil
        }
        // A finished job has no more events: its stream ends at once.
        if record.state.isFinished { unsubscribe(token) }
        return (record, stream)
    }

    func subscribe(jobID: String?) -> (stream: AsyncStream<JobEvent>, token: UUID) {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingNewest(1000))
        let token = UUID()
        // After the engine closed, a new stream ends at once (a client reconnecting during shutdown).
        if eventsClosed {
            continuation.finish()
            return (stream, token)
        }
        subscribers[token] = Subscriber(jobID: jobID, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.unsubscribe(token) }
        }
        return (stream, token)
    }

    func unsubscribe(_ token: UUID) {
        subscribers.removeValue(forKey: token)?.continuation.finish()
    }

    func emit(_ event: JobEvent) {
        for subscriber in subscribers.values where subscriber.jobID == nil || subscriber.jobID == event.jobID {
            subscriber.continuation.yield(event)
        }
    }

    // MARK: Helpers

    func resumeWaiters(of record: JobRecord) {
        for waiter in completionWaiters.removeValue(forKey: record.id) ?? [] {
            waiter.resume(returning: record)
        }
    }

    func log(_ record: JobRecord, _ message: String, level: Logger.Level = .info) {
        logger.log(level: level, "\(message)", metadata: Self.identity(of: record))
    }

    /// Checks a request against the configuration; returns the repositories it touches.
    func validate(_ operation: JobOperation) throws -> [String] {
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
            // nothing), so a dead machine's repository can be verified before its files are restored.
            case .restore, .check: break
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
