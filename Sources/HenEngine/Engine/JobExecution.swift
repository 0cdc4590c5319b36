import Foundation
import HenDrivers
import HenProcess
import Logging

/// Runs the jobs the queue releases: starts each with a ``JobRunner`` (which runs the hooks and talks to the
/// drivers), applies its updates to its record, times its `max_duration`, stops it when asked, and records
/// its end. Owns the running jobs (their tasks, timers, stop reasons, write throttling) and the requests to
/// cancel a job taken from the queue but not started yet.
///
/// It lives on the engine's executor: its async methods run on their caller's, and the tasks it starts
/// come back to it there, so the live records (``LiveJobs``) change in one place at a time.
final class JobExecution {
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

    /// What a running job needs from the engine.
    struct Context: Sendable {
        var configuration: ConfigurationInForce
        var secrets: ConfigurationSecrets
        var drivers: RepositoryDrivers
        var hooks: (any HookExecuting)?
        var restoreScope: RestoreScope
        var store: JobStore
        var writer: StoreWriter
        var eventBus: EventBus
        var snapshotCatalog: SnapshotCatalog
        var monitor: EngineMonitor
        /// The child processes of this engine's jobs (drivers, command hooks): hurried by ``Engine/stopNow()``.
        var childUrgency: ChildStopUrgency
        var clock: any Clock<Duration>
        var now: @Sendable () -> Date
        var logger: Logger
    }

    /// The daemon's watchers, once ``Engine/makeWatchService(logger:)`` made them: a restore's own writes
    /// must not queue a backup.
    var watchService: WatchService?
    private(set) var running: [String: RunningJob] = [:]
    /// Jobs cancelled while being taken from the queue (between the queue and `start`).
    private var cancelRequests: Set<String> = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private let live: LiveJobs
    private let admission: JobAdmission
    private let context: Context

    init(live: LiveJobs, admission: JobAdmission, context: Context) {
        self.live = live
        self.admission = admission
        self.context = context
    }

    private var configuration: Configuration { context.configuration.current }
    private var logger: Logger { context.logger }
    private var writer: StoreWriter { context.writer }
    private func now() -> Date { context.now() }
    private func emit(_ event: JobEvent) { context.eventBus.emit(event) }

    func publishQueueMetrics() {
        context.monitor.queue(queued: live.queuedCount, running: running.count)
    }

    // MARK: Starting

    /// Starts every queued job that may start now.
    nonisolated(nonsending) func dispatch() async {
        guard admission.acceptingJobs else { return }
        for entry in await admission.queue.takeStartable() {
            // Another process (a CLI) may have cancelled it in the store while it was queued here.
            let stored = try? await context.store.record(id: entry.id)
            let cancelledHere = cancelRequests.remove(entry.id) != nil
            if stored?.state == .cancelled || cancelledHere, var record = live.remove(entry.id) {
                record.state = .cancelled
                record.endedAt = now()
                record.error = cancelledHere ? "Cancelled by request before it started." : (stored?.error ?? "Cancelled by another process before it started.")
                writer.save(record)
                emit(.state(jobID: record.id, state: .cancelled, record: record))
                logger.log(job: record, "Job cancelled before it started.")
                context.monitor.jobEnded(record)
                publishQueueMetrics()
                live.ended(record)
                await admission.queue.finished(id: entry.id)
                continue
            }
            start(entry)
        }
    }

    /// `isolation`: the engine's, where the job's tasks come back to.
    private func start(_ entry: JobQueue.Entry, isolation: isolated (any Actor)? = #isolation) {
        guard var record = live[entry.id] else {
            let queue = admission.queue
            Task { await queue.finished(id: entry.id) }
            return
        }
        record.state = .running
        record.startedAt = now()
        record.priority = entry.priority
        live[entry.id] = record
        writer.save(record)
        emit(.state(jobID: record.id, state: .running, record: record))
        logger.log(job: record, "Job started.")

        let (updates, sink) = AsyncStream.makeStream(of: JobUpdate.self)
        // The consumer is not a child of the job's task: cancelling the job must not drop its last updates.
        let consumer = Task {
            _ = isolation
            await self.consume(updates, jobID: record.id)
        }
        let drivers = context.drivers
        let runner = JobRunner(
            configuration: configuration,
            makeDriver: { repository, niceness, limits, stepLogger in try drivers.driver(forRepository: repository, niceness: niceness, limits: limits, logger: stepLogger) },
            hooks: context.hooks,
            watch: watchService,
            restoreScope: context.restoreScope,
            catalog: context.snapshotCatalog,
            store: context.store,
            now: context.now,
            logger: logger.forJob(record)
        )
        let starting = record
        running[record.id] = RunningJob(lastPersist: now())
        publishQueueMetrics()
        let urgency = context.childUrgency
        let task = Task {
            _ = isolation
            let outcome = await ChildStopUrgency.$current.withValue(urgency) {
                await runner.run(starting) { sink.yield($0) }
            }
            sink.finish()
            await consumer.value
            await self.finish(jobID: starting.id, outcome: outcome)
        }
        running[record.id]?.task = task
        if let (limit, what) = maxDuration(of: record.request) {
            let clock = context.clock
            running[record.id]?.timer = Task {
                _ = isolation
                do {
                    try await clock.sleep(for: limit)
                } catch {
                    return
                }
                self.stop(jobID: starting.id, reason: .timedOut, message: "\(what) ran longer than its max_duration of \(DurationText.format(limit)) and was stopped.")
            }
        }
    }

    /// The configured limit of a job (a backup's `max_duration`, its `prune.max_duration`, a repository's
    /// `check.max_duration`) and how the job is named when it is stopped.
    func maxDuration(of operation: JobOperation) -> (Duration, String)? {
        switch operation {
        case .backup(let name, _):
            configuration.backup(named: name)?.maxDuration.map { ($0, "Backup \(name)") }
        case .prune(let name):
            configuration.backup(named: name)?.prune.maxDuration.map { ($0, "The prune of \(name)") }
        case .check(let repository, _):
            configuration.repositories[repository]?.check.maxDuration.map { ($0, "The check of \(repository)") }
        case .restore, .forget, .initialize, .unlock, .drill:
            nil
        }
    }

    // MARK: Stopping

    /// Asks a running job to stop; the job records `reason` once its work has ended.
    func stop(jobID: String, reason: JobState, message: String) {
        guard var job = running[jobID], job.stopReason == nil else { return }
        job.stopReason = reason
        job.stopMessage = message
        running[jobID] = job
        if let record = live[jobID] { logger.log(job: record, "Stopping the job: \(message)", level: .notice) }
        job.task?.cancel()
    }

    func stopAll(message: String) {
        for id in running.keys {
            stop(jobID: id, reason: .interrupted, message: message)
        }
    }

    /// What ``cancel(jobID:)`` did.
    enum Cancellation {
        /// Removed from the queue before it started: its final record.
        case cancelled(JobRecord)
        /// Being stopped (or about to be, when it was just taken from the queue): wait for its end.
        case stopping
        /// Not a queued or running job of this engine.
        case notLive
    }

    /// Cancels a job of this engine: a queued one is removed from the queue, a running one is asked to stop
    /// cleanly.
    nonisolated(nonsending) func cancel(jobID: String) async -> Cancellation {
        if running[jobID] != nil {
            stop(jobID: jobID, reason: .cancelled, message: "Cancelled by request while it ran.")
            return .stopping
        }
        guard var record = live[jobID] else { return .notLive }
        if await admission.queue.remove(id: jobID) {
            live.remove(jobID)
            record.state = .cancelled
            record.endedAt = now()
            record.error = "Cancelled by request before it started."
            writer.save(record)
            emit(.state(jobID: jobID, state: .cancelled, record: record))
            logger.log(job: record, "Job cancelled before it started.")
            live.ended(record)
            await dispatch()
            return .cancelled(record)
        }
        // It started meanwhile, or is about to: dispatch sees the request before starting it.
        if running[jobID] != nil { return await cancel(jobID: jobID) }
        cancelRequests.insert(jobID)
        return .stopping
    }

    /// Waits until no job of this engine is running.
    nonisolated(nonsending) func waitUntilNoneRunning() async {
        guard !running.isEmpty else { return }
        await withCheckedContinuation { waiter in idleWaiters.append(waiter) }
    }

    // MARK: Recording

    /// Applies a running job's updates to its record, in order: events for subscribers, throttled writes.
    private nonisolated(nonsending) func consume(_ updates: AsyncStream<JobUpdate>, jobID: String) async {
        var stepLogger: Logger?
        /// The running step's driver (`restic`, `tar`), named on the lines relayed from it.
        var stepDriver: String?
        var lastProgressLine: Date?
        for await unredacted in updates {
            guard var record = live[jobID] else { continue }
            // Whatever the job's work printed or said, the configuration's secrets never go further.
            let update = unredacted.redacted(by: context.secrets.redactor)
            // Driver output is relayed as lines of the `driver` component, with the job's identity and step.
            let driverLogger: Logger = {
                var relay = stepLogger ?? self.logger.forJob(record)
                relay[metadataKey: "component"] = "driver"
                if let stepDriver { relay[metadataKey: "driver"] = "\(stepDriver)" }
                return relay
            }()
            let date = now()
            var writeNow = false
            switch update {
            case .step(let step):
                record.record(step)
                writeNow = true
                emit(step.state == .running ? .stepStarted(jobID: jobID, step: step) : .stepEnded(jobID: jobID, step: step))
                var lineLogger = logger.forJob(record)
                lineLogger[metadataKey: "step"] = "\(step.id)"
                if let repository = step.repository { lineLogger[metadataKey: "repository"] = "\(repository)" }
                lineLogger.log(
                    level: step.state == .failed ? .error : .info, "Step \(step.name): \(step.state.rawValue)\(step.message.map { " — \($0)" } ?? "")",
                    metadata: ["step_state": "\(step.state.rawValue)"]
                )
                stepLogger = step.state == .running ? lineLogger : nil
                stepDriver = step.state == .running ? step.repository.flatMap { configuration.repositories[$0]?.driver } : nil
                if step.state == .running { record.progress = nil }
            case .driver(let event):
                record.lastReportAt = date
                running[jobID]?.stallWarnedSince = nil
                switch event {
                case .progress(let progress):
                    record.progress = progress
                    // Subscribers get progress about once a second, like the store.
                    let last = running[jobID]?.lastProgressEvent
                    if last == nil || date.timeIntervalSince(last!) >= 1 {
                        running[jobID]?.lastProgressEvent = date
                        emit(.progress(jobID: jobID, progress: progress))
                    }
                    // Progress in the log is sampled: one line every 30 seconds at most, at debug.
                    if lastProgressLine == nil || date.timeIntervalSince(lastProgressLine!) >= 30 {
                        lastProgressLine = date
                        driverLogger.debug("progress", metadata: Self.metadata(of: progress))
                    }
                case .warning(let message):
                    record.appendWarning(message)
                    emit(.warning(jobID: jobID, message: message))
                    driverLogger.warning("\(message)", metadata: ["event": "warning"])
                case .log(let level, let message):
                    driverLogger.log(level: Self.loggerLevel(level), "\(message)")
                    let line = JobLogLine(time: date, level: level, message: message)
                    record.appendLog(line)
                    emit(.log(jobID: jobID, line: line))
                }
            case .result(let result):
                record.results.append(result)
                writeNow = true
            case .warning(let message):
                record.appendWarning(message)
                emit(.warning(jobID: jobID, message: message))
                (stepLogger ?? logger.forJob(record)).warning("\(message)")
            case .log(let level, let message):
                (stepLogger ?? logger.forJob(record)).log(level: Self.loggerLevel(level), "\(message)")
                let line = JobLogLine(time: date, level: level, message: message)
                record.appendLog(line)
                emit(.log(jobID: jobID, line: line))
            }
            live[jobID] = record
            // Progress and log lines are written at most once a second per job, steps and results at once.
            if writeNow || date.timeIntervalSince(running[jobID]?.lastPersist ?? .distantPast) >= 1 {
                writer.save(record)
                running[jobID]?.lastPersist = date
                running[jobID]?.dirty = false
            } else {
                running[jobID]?.dirty = true
            }
        }
    }

    private nonisolated(nonsending) func finish(jobID: String, outcome: JobOutcome) async {
        let endedAt = now()
        // First, so that the snapshot count below reads the list again where this job could not say what it changed.
        if let record = live[jobID] { await context.snapshotCatalog.jobEnded(record) }
        // The snapshot count for the metrics is taken while the job still holds its place in the queue (no
        // prune or check meets the listing) and still counts as running (a shutdown waits for it, a stop
        // interrupts it cleanly).
        if !outcome.stopped, let record = live[jobID] { await context.monitor.countSnapshots(of: record) }
        let job = running.removeValue(forKey: jobID)
        job?.timer?.cancel()
        // The record stays live until the store has its final version: a job's event stream opened
        // meanwhile reads it from there, never an older throttled save that lacks the last log lines.
        guard var record = live[jobID] else {
            await admission.queue.finished(id: jobID)
            return
        }
        if let reason = job?.stopReason, outcome.stopped || outcome.state != .succeeded {
            record.state = reason
            record.error = job?.stopMessage
        } else if outcome.stopped {
            record.state = .interrupted
            record.error = "The job was stopped before it finished."
        } else {
            record.state = outcome.state
            record.error = outcome.error.map(context.secrets.redact)
        }
        // A step cut short by a stop is not left `running`.
        for index in record.steps.indices where record.steps[index].state == .running {
            record.steps[index].state = .cancelled
            record.steps[index].endedAt = endedAt
        }
        record.endedAt = endedAt
        writer.save(record)
        // Whoever waits for the end may read the store next: it has the final record by then.
        await writer.flush()
        live.remove(jobID)
        context.monitor.jobEnded(record)
        publishQueueMetrics()
        emit(.state(jobID: jobID, state: record.state, record: record))
        logger.log(job: record, "Job ended: \(record.state.rawValue)\(record.error.map { " — \($0)" } ?? "")", level: record.state == .failed ? .error : .info)
        live.ended(record)
        await admission.queue.finished(id: jobID)
        if running.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
        await dispatch()
    }

    // MARK: Watchdog

    /// Writes the progress held back by the once-a-second throttle, and records a warning in every running
    /// job that reported nothing for `stall_warning`, once per silence.
    func watchdogTick() {
        let date = now()
        let limit = Double(configuration.stallWarning.components.seconds)
        // Progress held back by the once-a-second throttle is written now, so the store is never far behind.
        for (id, job) in running where job.dirty {
            if let record = live[id] { writer.save(record) }
            running[id]?.dirty = false
            running[id]?.lastPersist = date
        }
        for (id, job) in running {
            guard var record = live[id], let started = record.startedAt else { continue }
            let since = record.lastReportAt ?? started
            guard date.timeIntervalSince(since) >= limit, job.stallWarnedSince != since else { continue }
            let minutes = Int(date.timeIntervalSince(since) / 60)
            let warning = "The driver reported nothing for \(minutes) minute\(minutes == 1 ? "" : "s") (stall_warning is \(DurationText.format(configuration.stallWarning))); the job may be stuck."
            record.appendWarning(warning)
            live[id] = record
            running[id]?.stallWarnedSince = since
            writer.save(record)
            emit(.warning(jobID: id, message: warning))
            logger.log(job: record, warning, level: .warning)
        }
    }

    static func loggerLevel(_ level: DriverEvent.LogLevel) -> Logger.Level {
        switch level {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        }
    }

    /// A driver's progress as log fields.
    static func metadata(of progress: HenDrivers.Progress) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        if let fraction = progress.fraction { metadata["fraction"] = "\((fraction * 1000).rounded() / 1000)" }
        if let files = progress.filesDone { metadata["files_done"] = "\(files)" }
        if let files = progress.totalFiles { metadata["total_files"] = "\(files)" }
        if let bytes = progress.bytesDone { metadata["bytes_done"] = "\(bytes)" }
        if let bytes = progress.totalBytes { metadata["total_bytes"] = "\(bytes)" }
        if let seconds = progress.secondsElapsed { metadata["seconds_elapsed"] = "\(Int(seconds))" }
        return metadata
    }
}
