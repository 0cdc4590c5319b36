import Foundation
import HenProcess
import HenDrivers
import Logging

extension Engine {
    /// Starts every queued job that may start now.
    func dispatch() async {
        guard acceptingJobs else { return }
        for entry in await queue.takeStartable() {
            // Another process (a CLI) may have cancelled it in the store while it was queued here.
            let stored = try? await store.record(id: entry.id)
            let cancelledHere = cancelRequests.remove(entry.id) != nil
            if stored?.state == .cancelled || cancelledHere, var record = active.removeValue(forKey: entry.id) {
                record.state = .cancelled
                record.endedAt = now()
                record.error = cancelledHere ? "Cancelled by request before it started." : (stored?.error ?? "Cancelled by another process before it started.")
                writer.save(record)
                emit(.state(jobID: record.id, state: .cancelled, record: record))
                log(record, "Job cancelled before it started.")
                publishMetrics(ofEnded: record)
                publishQueueMetrics()
                resumeWaiters(of: record)
                await queue.finished(id: entry.id)
                continue
            }
            // A job whose start cannot be recorded is not run (its result would be lost): it fails.
            do {
                try await store.checkWritable()
            } catch {
                refuseStart(entry, reason: (error as? EngineError)?.message ?? "\(error)")
                continue
            }
            start(entry)
        }
    }

    /// Ends a job the queue released but that cannot start because the store cannot be written. Its
    /// `failed` record is written as soon as the store can be written again.
    private func refuseStart(_ entry: JobQueue.Entry, reason: String) {
        guard var record = active.removeValue(forKey: entry.id) else {
            Task { await queue.finished(id: entry.id) }
            return
        }
        record.state = .failed
        record.endedAt = now()
        record.error = "The job was not started because it could not be recorded: \(reason)"
        writer.save(record)
        emit(.state(jobID: record.id, state: .failed, record: record))
        log(record, record.error ?? "", level: .error)
        publishMetrics(ofEnded: record)
        publishQueueMetrics()
        resumeWaiters(of: record)
        Task { await queue.finished(id: entry.id) }
    }

    private func start(_ entry: JobQueue.Entry) {
        guard var record = active[entry.id] else {
            Task { await queue.finished(id: entry.id) }
            return
        }
        record.state = .running
        record.startedAt = now()
        record.priority = entry.priority
        active[entry.id] = record
        writer.save(record)
        emit(.state(jobID: record.id, state: .running, record: record))
        log(record, "Job started.")

        let (updates, sink) = AsyncStream.makeStream(of: JobUpdate.self)
        // The consumer is not a child of the job's task: cancelling the job must not drop its last updates.
        let consumer = Task { await self.consume(updates, jobID: record.id) }
        let jobLogger = logger(for: record)
        let runner = JobRunner(
            configuration: configuration,
            makeDriver: { [self] repository, niceness, limits, stepLogger in try self.driver(forRepository: repository, niceness: niceness, limits: limits, logger: stepLogger) },
            hooks: hooks,
            watch: watchService,
            restoreScope: restoreScope,
            now: now,
            logger: jobLogger,
            sleep: { [clock] wait in try await clock.sleep(for: wait) }
        )
        let starting = record
        running[record.id] = RunningJob(lastPersist: now())
        publishQueueMetrics()
        let urgency = childUrgency
        let task = Task {
            let outcome = await ChildStopUrgency.$current.withValue(urgency) {
                await runner.run(starting) { sink.yield($0) }
            }
            sink.finish()
            await consumer.value
            await self.finish(jobID: starting.id, outcome: outcome)
        }
        running[record.id]?.task = task
        if let (limit, what) = maxDuration(of: record.request) {
            let clock = self.clock
            running[record.id]?.timer = Task {
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
        case .restore, .forget, .initialize, .unlock:
            nil
        }
    }

    /// Asks a running job to stop; the job records `reason` once its work has ended.
    func stop(jobID: String, reason: JobState, message: String) {
        guard var job = running[jobID], job.stopReason == nil else { return }
        job.stopReason = reason
        job.stopMessage = message
        running[jobID] = job
        if let record = active[jobID] { log(record, "Stopping the job: \(message)", level: .notice) }
        job.task?.cancel()
    }

    /// Applies a running job's updates to its record, in order: events for subscribers, throttled writes.
    private func consume(_ updates: AsyncStream<JobUpdate>, jobID: String) async {
        var stepLogger: Logger?
        /// The running step's driver (`restic`, `tar`), named on the lines relayed from it.
        var stepDriver: String?
        var lastProgressLine: Date?
        for await unredacted in updates {
            guard var record = active[jobID] else { continue }
            // Whatever the job's work printed or said, the configuration's secrets never go further.
            let update = unredacted.redacted(by: secrets.redactor)
            // Driver output is relayed as lines of the `driver` component, with the job's identity and step.
            let driverLogger: Logger = {
                var relay = stepLogger ?? self.logger(for: record)
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
                var lineLogger = logger(for: record)
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
                (stepLogger ?? logger(for: record)).warning("\(message)")
            case .log(let level, let message):
                (stepLogger ?? logger(for: record)).log(level: Self.loggerLevel(level), "\(message)")
                let line = JobLogLine(time: date, level: level, message: message)
                record.appendLog(line)
                emit(.log(jobID: jobID, line: line))
            }
            active[jobID] = record
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

    private func finish(jobID: String, outcome: JobOutcome) async {
        let endedAt = now()
        // The snapshot count for the metrics is taken while the job still holds its place in the queue (no
        // prune or check meets the listing) and still counts as running (a shutdown waits for it, a stop
        // interrupts it cleanly).
        if !outcome.stopped, let record = active[jobID] { await countSnapshots(of: record) }
        let job = running.removeValue(forKey: jobID)
        job?.timer?.cancel()
        // The record stays in `active` until the store has its final version: a job's event stream opened
        // meanwhile reads it from there, never an older throttled save that lacks the last log lines.
        guard var record = active[jobID] else {
            await queue.finished(id: jobID)
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
            record.error = outcome.error.map(secrets.redact)
        }
        // A step cut short by a stop is not left `running`.
        for index in record.steps.indices where record.steps[index].state == .running {
            record.steps[index].state = .cancelled
            record.steps[index].endedAt = endedAt
        }
        record.endedAt = endedAt
        // Before anyone hears of the end: a snapshot list read next must not be the one before this job.
        await snapshotCatalog.jobEnded(record)
        writer.save(record)
        // Whoever waits for the end may read the store next: it has the final record by then.
        await writer.flush()
        active[jobID] = nil
        publishMetrics(ofEnded: record)
        publishQueueMetrics()
        emit(.state(jobID: jobID, state: record.state, record: record))
        log(record, "Job ended: \(record.state.rawValue)\(record.error.map { " — \($0)" } ?? "")", level: record.state == .failed ? .error : .info)
        resumeWaiters(of: record)
        await queue.finished(id: jobID)
        if running.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
        await dispatch()
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

    /// Waits until no job of this engine is running.
    func waitUntilNoneRunning() async {
        guard !running.isEmpty else { return }
        await withCheckedContinuation { waiter in idleWaiters.append(waiter) }
    }
}
