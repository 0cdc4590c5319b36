import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Logging
import Metrics

/// The facade: everything the CLI, the API and the UI can do is a method here, and each is answered by the
/// part that owns the concern (docs/architecture.md lists them with their files):
///
/// - ``JobAdmission``: where a job is admitted (checked, given its priority and record, queued in the ``JobQueue``);
/// - ``JobExecution``: runs the jobs the queue releases with a ``JobRunner``, which talks to the drivers;
/// - ``LiveJobs``: the records of queued and running jobs, and who waits for their end;
/// - ``Planner``: who decides the next scheduled run;
/// - ``EventBus``: live job events;
/// - ``SnapshotBrowser``: snapshot lists, directory pages and downloads;
/// - ``EngineMonitor``: status, health and metrics;
/// - ``ConfigurationInForce``: the configuration in force and its reload.
///
/// The job parts (admission, execution, live records) live on this actor's executor: their state changes
/// one step at a time, as the engine's own would. A daemon calls ``recover()`` once at start (interrupted
/// jobs, re-queued jobs, history retention) and ``shutdown(grace:)`` at the end; an in-process CLI does
/// neither, so it never touches jobs that belong to a running daemon.
public actor Engine {
    /// The configuration in force: the one the engine was built with, until ``reload(_:)`` replaces it.
    public nonisolated var configuration: Configuration { configurationInForce.current }
    nonisolated let configurationInForce: ConfigurationInForce
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
    let writer: StoreWriter
    nonisolated let drivers: RepositoryDrivers
    nonisolated let eventBus: EventBus
    nonisolated let snapshotBrowser: SnapshotBrowser
    nonisolated let monitor: EngineMonitor
    let live: LiveJobs
    let admission: JobAdmission
    let execution: JobExecution
    /// The child processes of this engine's jobs (drivers, command hooks): hurried by ``stopNow()``.
    nonisolated let childUrgency = ChildStopUrgency()
    /// When this engine was built: a cron schedule that never ran counts from here (or from the reload
    /// that added its backup, ``ConfigurationInForce/appearance(of:)``).
    let createdAt: Date

    /// Where the engine's metrics go (what HenServer's `/metrics` reads).
    public nonisolated var metricsFactory: any MetricsFactory { monitor.metrics.factory }
    /// The queue's order and limits.
    var queue: JobQueue { admission.queue }
    /// Who follows the live events.
    var subscribers: [UUID: EventBus.Subscriber] { eventBus.subscribers }

    /// - Parameter secrets: the redactor to keep up to date with the configuration (the one the process's
    ///   log handler uses); a new one by default.
    public init(configuration: Configuration, registry: DriverRegistry, store: JobStore, clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = Date.init, logger: Logger, hooks: (any HookExecuting)? = nil, metrics: (any MetricsFactory)? = nil, restoreScope: RestoreScope = .allowedTargets, secrets: ConfigurationSecrets? = nil) {
        let createdAt = now()
        let inForce = ConfigurationInForce(configuration, since: createdAt)
        self.configurationInForce = inForce
        self.restoreScope = restoreScope
        let secrets = secrets ?? ConfigurationSecrets(configuration)
        secrets.update(from: configuration)
        self.secrets = secrets
        self.registry = registry
        self.store = store
        self.clock = clock
        self.now = now
        self.logger = logger
        self.createdAt = createdAt
        let writer = StoreWriter(store: store, secrets: secrets, logger: logger)
        self.writer = writer
        let drivers = RepositoryDrivers(configuration: inForce, registry: registry, logger: logger)
        self.drivers = drivers
        let eventBus = EventBus()
        self.eventBus = eventBus
        let catalog = SnapshotCatalog(dataDirectory: configuration.dataDirectory, identities: SnapshotCatalog.identities(of: configuration))
        snapshotBrowser = SnapshotBrowser(configurationInForce: inForce, drivers: drivers, snapshotCatalog: catalog, restoreScope: restoreScope, now: now)
        let monitor = EngineMonitor(metrics: EngineMetrics(factory: metrics ?? MetricsSystem.factory), store: store, writer: writer, configuration: inForce, snapshots: snapshotBrowser, createdAt: createdAt, now: now, logger: logger)
        self.monitor = monitor
        let live = LiveJobs()
        self.live = live
        let queue = JobQueue(maxConcurrentJobs: configuration.maxConcurrentJobs, concurrentBackupRepositories: RepositoryDrivers.concurrentBackupRepositories(configuration, registry: registry, logger: logger))
        let admission = JobAdmission(queue: queue, live: live, configuration: inForce, restoreScope: restoreScope, writer: writer, eventBus: eventBus, now: now, logger: logger)
        self.admission = admission
        execution = JobExecution(live: live, admission: admission, context: JobExecution.Context(
            configuration: inForce, secrets: secrets, drivers: drivers, hooks: hooks, restoreScope: restoreScope, store: store, writer: writer,
            eventBus: eventBus, snapshotCatalog: catalog, monitor: monitor, childUrgency: childUrgency, clock: clock, now: now, logger: logger
        ))
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
        try drivers.driver(forRepository: name)
    }

    // MARK: Submitting

    /// Queues a job (``JobAdmission``) and starts what may start now (``JobExecution``); returns its record.
    /// An identical queued job (same operation and target) is not queued twice: its record is returned,
    /// with its priority raised when this request's is higher.
    public func submit(_ request: JobRequest) async throws -> JobRecord {
        let admitted = try await admission.submit(request)
        if admitted.isNew {
            execution.publishQueueMetrics()
            await execution.dispatch()
            return live[admitted.record.id] ?? admitted.record
        }
        if admitted.priorityRaised { await execution.dispatch() }
        return admitted.record
    }

    /// Runs one job now in this process (for the in-process CLI): recorded in the store, started past the
    /// concurrency limit but never beside a job it collides with, and its events passed to `onEvent`.
    /// Cancelling the calling task cancels the job cleanly. Returns the final record.
    public func runInProcess(_ request: JobRequest, onEvent: @escaping @Sendable (JobEvent) -> Void) async throws -> JobRecord {
        let (stream, token) = eventBus.subscribe(jobID: nil)
        defer { eventBus.unsubscribe(token) }
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
        switch await execution.cancel(jobID: jobID) {
        case .cancelled(let record): return record
        case .stopping: return try await waitForCompletion(jobID: jobID)
        case .notLive: break
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
        if let record = live[id] { return record }
        await writer.flush()
        return try await store.record(id: id)
    }

    /// Records matching `filter`, newest first, at most `filter.limit` (live for this engine's jobs).
    public func jobs(_ filter: JobFilter) async throws -> [JobRecord] {
        await writer.flush()
        return try await store.records(filter).map { live[$0.id] ?? $0 }
    }

    /// The same records as lists show them (``JobRecord/summary``: each log left empty), read without the
    /// log: the API's job list, overviews and `hen-backup jobs`.
    public func jobSummaries(_ filter: JobFilter) async throws -> [JobRecord] {
        await writer.flush()
        return try await store.summaries(filter).map { live[$0.id]?.summary ?? $0 }
    }

    /// Waits until a job has ended and returns its final record. Throws `.notFound` for an unknown job.
    public func waitForCompletion(jobID: String) async throws -> JobRecord {
        if let record = await live.finalRecord(of: jobID) { return record }
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
        eventBus.subscribe(jobID: jobID).stream
    }

    /// A job's record and its live events from that moment on, taken together: an event is either already
    /// in the record or comes through the stream, never both. Nil when there is no such job.
    public func recordAndEvents(jobID: String) async throws -> (record: JobRecord, events: AsyncStream<JobEvent>)? {
        let (stream, token) = eventBus.subscribe(jobID: jobID)
        // No suspension between subscribing and reading a live record: events are emitted on this
        // executor, so nothing can be emitted in between.
        if let record = live[jobID] { return (record, stream) }
        guard let record = try await job(id: jobID) else {
            eventBus.unsubscribe(token)
            return nil
        }
        // A finished job has no more events: its stream ends at once.
        if record.state.isFinished { eventBus.unsubscribe(token) }
        return (record, stream)
    }
}
