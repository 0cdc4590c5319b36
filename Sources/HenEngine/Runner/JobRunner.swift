import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Logging

/// Runs one job: hooks (backups only), then its operation as one step per repository, reporting every
/// step, driver event and result through `report`. Cancelling the calling task stops the work cleanly
/// (drivers interrupt their child processes and wait for them) and the outcome says `stopped`.
struct JobRunner: Sendable {
    /// Builds a repository's driver logging with `logger` (the job's identity and the step).
    /// `limits` combine with the repository's and the global ones (the smallest wins).
    typealias DriverFactory = @Sendable (_ repository: String, _ niceness: Niceness, _ limits: TransferLimits, _ logger: Logger) throws -> any BackupDriver

    var configuration: Configuration
    var makeDriver: DriverFactory
    var hooks: (any HookExecuting)?
    /// Set in the daemon: a restore's writes into watched paths must not queue a backup.
    var watch: WatchService?
    /// Where restores may write: the daemon's are held to `restore.allowed_targets`.
    var restoreScope: RestoreScope = .allowedTargets
    /// The engine's snapshot cache and index: a backup adds its new snapshot to the cached list and counts
    /// its changes against its parent there, a forget removes what it removed, so that nobody lists the
    /// repository again to learn it; a restore or forget whose snapshot it knows needs no listing to confirm
    /// it either (nil: none of this, and no counts).
    var catalog: SnapshotCatalog?
    /// The job store, for the backups' alarms and the drills' record (nil: neither is kept).
    var store: JobStore?
    var now: @Sendable () -> Date
    var logger: Logger
    /// Waits between two tries of a step (the engine's clock in the daemon, so tests can move it).
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    func run(_ record: JobRecord, report: @escaping @Sendable (JobUpdate) -> Void) async -> JobOutcome {
        var run = Run(record: record, report: report, now: now)
        let backup = record.request.backup.flatMap { configuration.backup(named: $0) }
        let phases: Configuration.Backup.Hooks = switch record.request {
        case .backup: backup?.hooks ?? .init()
        case .prune: backup?.prune.hooks ?? .init()
        case .check(let repository, _): configuration.repositories[repository]?.check.hooks ?? .init()
        case .drill: backup?.drill?.hooks ?? .init()
        default: .init()
        }
        var broke = false
        // Command hooks run at the backup's CPU and IO priority, like its driver (backup, prune and drill jobs).
        let niceness = backup?.nice ?? Niceness()

        if !phases.before.isEmpty, let hooks {
            let outcome = await hooks.run(phases.before, phase: .before, context: run.hookContext(configuration, state: .running), logger: logger, niceness: niceness, onStep: { Self.reportHook($0, report) })
            run.absorb(outcome)
            broke = outcome.broke
        }
        if !broke && !Task.isCancelled {
            await perform(record, backup: backup, run: &run)
        }
        if !run.alarms.isEmpty, let hooks, !phases.alarm.isEmpty, !Task.isCancelled {
            // The alarm's sentence is the hooks' error text (`HEN_ERROR`, `{{job.error}}`), its state `warning`.
            var context = run.hookContext(configuration, state: .warning)
            context.error = run.alarms.joined(separator: " ")
            run.absorb(await hooks.run(phases.alarm, phase: .alarm, context: context, logger: logger, niceness: niceness, onStep: { Self.reportHook($0, report) }))
        }
        let failedSoFar = run.failure != nil
        if let hooks, !Task.isCancelled {
            if !failedSoFar, !phases.after.isEmpty {
                run.absorb(await hooks.run(phases.after, phase: .after, context: run.hookContext(configuration, state: .running), logger: logger, niceness: niceness, onStep: { Self.reportHook($0, report) }))
            }
            if run.failure != nil, !phases.failure.isEmpty {
                run.absorb(await hooks.run(phases.failure, phase: .failure, context: run.hookContext(configuration, state: .failed), logger: logger, niceness: niceness, onStep: { Self.reportHook($0, report) }))
            }
        }
        let stopped = run.stopped || Task.isCancelled
        if let hooks, !phases.finally.isEmpty {
            // `finally` runs even when the job was stopped, so that hooks can release what `before` took
            // (restart a container, drop a dump): in a task of its own, which the stop does not cancel. Each
            // hook is bounded by its own timeout, and after a stop a command without one by
            // `finallyTimeoutAfterStop`, so that a daemon that is stopping is never held for ever.
            let state: JobState = stopped ? .cancelled : (run.failure != nil ? .failed : (run.warned ? .warning : .succeeded))
            let context = run.hookContext(configuration, state: state)
            let finally = stopped ? phases.finally.map(Self.boundedAfterStop) : phases.finally
            let logger = logger
            let task = Task {
                await hooks.run(finally, phase: .finally, context: context, logger: logger, niceness: niceness, onStep: { Self.reportHook($0, report) })
            }
            // Not cancelled by the stop, but by a hurry (a second signal): then nothing may hold the daemon.
            let outcome = if let urgency = ChildStopUrgency.current {
                await urgency.onHurry({ task.cancel() }) { await task.value }
            } else {
                await task.value
            }
            run.absorb(outcome)
        }
        return run.outcome(stopped: stopped)
    }

    /// A hook's step, and a command hook's output (bounded, secrets already redacted) as lines of the job's
    /// log, so that `hen-backup job ID` and `--follow` show what the hook printed.
    static func reportHook(_ step: JobStep, _ report: @Sendable (JobUpdate) -> Void) {
        report(.step(step))
        guard let detail = step.hook, detail.httpStatus == nil, step.state != .running, !detail.output.isEmpty else { return }
        let level: DriverEvent.LogLevel = step.state == .failed ? .warning : .info
        for line in detail.output.split(separator: "\n", omittingEmptySubsequences: true) {
            report(.log(level, "\(step.name): \(line)"))
        }
        if detail.outputTruncated { report(.log(level, "\(step.name): (output shortened: its middle was left out)")) }
    }

    /// How long a `finally` command without a `timeout` may run once its job was stopped.
    static let finallyTimeoutAfterStop: Double = 300

    /// After a stop: a command without `timeout` gets ``finallyTimeoutAfterStop``, an HTTP call one attempt.
    static func boundedAfterStop(_ hook: HookDefinition) -> HookDefinition {
        var bounded = hook
        switch hook.action {
        case .command(var command) where command.timeout == nil:
            command.timeout = finallyTimeoutAfterStop
            bounded.action = .command(command)
        case .http(var http) where http.retries > 0:
            http.retries = 0
            bounded.action = .http(http)
        default:
            break
        }
        return bounded
    }

    // MARK: Operations

    private func perform(_ record: JobRecord, backup: Configuration.Backup?, run: inout Run) async {
        switch record.request {
        case .backup(let name, _):
            guard let backup else { return run.fail("Backup \(name) is not in the configuration.") }
            for repository in record.repositories {
                if Task.isCancelled { run.stopped = true; return }
                await attempting(repository, policy: backup.retry ?? configuration.retry, run: &run) { run in
                    await backUp(backup, to: repository, run: &run)
                }
            }
        case .prune(let name):
            guard let backup else { return run.fail("Backup \(name) is not in the configuration.") }
            guard let retention = backup.retention, !retention.isEmpty else {
                return run.fail("Backup \(name) has no retention policy, so there is nothing to prune by.")
            }
            if backup.alarm?.protect == true, let store {
                let raised: BackupAlarm?
                do {
                    raised = try await store.alarm(backup: name)
                } catch {
                    // Unknown is not "no alarm": nothing from before a drop may be forgotten on a guess.
                    return run.fail("The prune of \(name) did not run: whether its mass-deletion alarm is raised cannot be read (\(error)).")
                }
                if let raised, raised.isActive {
                    let date = now()
                    let sentence = "The prune of \(name) is held back by the mass-deletion alarm raised by job \(raised.jobID) (\(raised.removed) of \(raised.parentFiles) files removed in \(raised.repository)); no snapshot is forgotten until someone runs `hen-backup alarm ack \(name)`."
                    for repository in record.repositories {
                        run.report(.step(JobStep(id: "prune:\(repository)", name: "forget and prune \(repository)", repository: repository, state: .skipped, startedAt: date, endedAt: date, message: "held back by the mass-deletion alarm")))
                    }
                    run.report(.warning(sentence))
                    run.warned = true
                    return
                }
            }
            let (jobID, hostname) = (record.id, configuration.hostname)
            for repository in record.repositories {
                if Task.isCancelled { run.stopped = true; return }
                await attempting(repository, policy: backup.retry ?? configuration.retry, run: &run) { run in
                    await step(id: "prune:\(repository)", name: "forget and prune \(repository)", repository: repository, niceness: backup.nice, limits: backup.limits, createsRepository: true, run: &run) { driver, events in
                        let summary = try await driver.forget(ForgetRequest(selection: .policy(retention), tags: [SnapshotTag.backup(name)], prune: true), events: events)
                        await catalog?.recordForget(jobID: jobID, repository: repository, hostname: hostname, removed: summary.removed)
                        return StepResult(
                            message: "kept \(summary.kept.count), removed \(summary.removed.count) snapshot\(summary.removed.count == 1 ? "" : "s")",
                            result: RepositoryResult(repository: repository, snapshotsRemoved: summary.removed, snapshotsKept: summary.kept.count)
                        )
                    }
                }
            }
        case .check(let repository, let subset):
            let readDataSubset = subset ?? configuration.repositories[repository]?.check.readDataSubset
            await attempting(repository, policy: configuration.retry, run: &run) { run in
                await step(id: "check:\(repository)", name: "check \(repository)", repository: repository, createsRepository: true, run: &run) { driver, events in
                    let summary = try await driver.check(CheckRequest(readDataSubset: readDataSubset), events: events)
                    if !summary.ok {
                        let first = summary.errors[0]
                        throw DriverError(.checkFailed, "The check of repository \(repository) found \(summary.errors.count) problem\(summary.errors.count == 1 ? "" : "s"), the first: \(first)", repository: repository)
                    }
                    return StepResult(
                        message: readDataSubset.map { "no problems (read back \($0) of the data)" } ?? "no problems",
                        warnings: summary.warnings,
                        result: RepositoryResult(repository: repository, checkErrors: [])
                    )
                }
            }
        case .restore(let repository, let snapshot, let target, let includes):
            let scope = restoreScope
            let allowedTargets = configuration.restore.allowedTargets
            // Checked when the job was made, against the cache: restic need not list the snapshots again.
            let known = await catalog?.knows(repository: repository, hostname: configuration.hostname, ids: [snapshot]) == true
            let verified = known ? await catalog?.indexHolds(repository: repository, snapshotID: snapshot, paths: includes) == true : false
            await step(id: "restore:\(repository)", name: "restore \(snapshot) from \(repository)", repository: repository, run: &run) { driver, events in
                // Everything that writes into the target, the staging directory and missing parents included,
                // happens inside the suppression: a restore into a watched path must not queue a backup.
                let restore: @Sendable () async throws -> (RestoreSummary, [String]) = {
                    // Checked again now, not only when queued: the disk may have changed while the job waited.
                    let staging = try RestoreStaging.prepare(target: target, scope: scope, allowedTargets: allowedTargets)
                    // Named in the job's log (stored within a second), so that after a crash the record says
                    // which `.hen-restore-…` directory was left.
                    events(.log(level: .info, message: "Restoring into the staging directory \(staging.stagingPath), then moving into \(target)."))
                    let request = RestoreRequest(snapshot: snapshot, target: staging.driverTarget, includes: includes, verified: verified)
                    do {
                        let summary = try await driver.restore(request, events: events)
                        return (summary, try staging.moveIntoPlace())
                    } catch let error as EngineError {
                        // Moving into place failed: its error says where the rest is.
                        throw error
                    } catch where Self.isCancellation(error) || Task.isCancelled {
                        // Stopped: the user asked for nothing more to be written.
                        for warning in staging.discard() { events(.warning(warning)) }
                        throw error
                    } catch {
                        // restic exits 1 after restoring everything else when one file failed (an lchown on
                        // exFAT, one damaged blob): what it restored is put in place, not thrown away.
                        throw Self.partialRestore(error, staging: staging, repository: repository)
                    }
                }
                let outcome: (RestoreSummary, [String])
                if let watch {
                    outcome = try await watch.suppress(paths: [RestoreStaging.outermostCreated(target)]) { try await restore() }
                } else {
                    outcome = try await restore()
                }
                let (summary, kept) = outcome
                return StepResult(
                    message: "restored \(summary.filesRestored.map(String.init) ?? "the") files to \(target)",
                    warnings: summary.warnings + kept,
                    result: RepositoryResult(repository: repository, filesRestored: summary.filesRestored, bytesRestored: summary.bytesRestored)
                )
            }
        case .forget(let repository, let ids):
            let (jobID, hostname) = (record.id, configuration.hostname)
            let verified = await catalog?.knows(repository: repository, hostname: hostname, ids: ids) == true
            await attempting(repository, policy: configuration.retry, run: &run) { run in
                await step(id: "forget:\(repository)", name: "forget \(ids.count) snapshot\(ids.count == 1 ? "" : "s") in \(repository)", repository: repository, run: &run) { driver, events in
                    let summary = try await driver.forget(ForgetRequest(selection: .snapshots(ids), verified: verified), events: events)
                    await catalog?.recordForget(jobID: jobID, repository: repository, hostname: hostname, removed: summary.removed)
                    return StepResult(
                        message: "removed \(summary.removed.count) snapshot\(summary.removed.count == 1 ? "" : "s")",
                        result: RepositoryResult(repository: repository, snapshotsRemoved: summary.removed, snapshotsKept: summary.kept.count)
                    )
                }
            }
        case .initialize(let repository):
            await attempting(repository, policy: configuration.retry, run: &run) { run in
                await step(id: "init:\(repository)", name: "initialize \(repository)", repository: repository, run: &run) { driver, events in
                    let result = try await driver.initialize(events: events)
                    return StepResult(message: result == .created ? "created" : "already initialized")
                }
            }
        case .drill(let name):
            guard let backup else { return run.fail("Backup \(name) is not in the configuration.") }
            for repository in record.repositories {
                if Task.isCancelled { run.stopped = true; return }
                let drill = RestoreDrill(backup: backup, repository: repository, jobID: record.id, queuedAt: record.queuedAt, dataDirectory: configuration.dataDirectory, store: store, now: now)
                await attempting(repository, policy: backup.retry ?? configuration.retry, run: &run) { run in
                    await step(id: "drill:\(repository)", name: "restore drill of \(repository)", repository: repository, niceness: backup.nice, limits: backup.limits, run: &run) { driver, events in
                        guard let found = try await drill.run(driver: driver, events: events) else {
                            return StepResult(message: "nothing to drill", warnings: ["Repository \(repository) has no snapshot of backup \(name) to drill yet."])
                        }
                        let result = found
                        var recorded = RepositoryResult(repository: repository)
                        recorded.drill = result
                        let counts = "\(result.sampled) files sampled from snapshot \(result.snapshotID.prefix(8)): \(result.matched) matched, \(result.differed) differed, \(result.skipped) skipped (changed or gone since)"
                        guard result.differed == 0 else {
                            let listed = result.differedPaths.joined(separator: ", ") + (result.differed > result.differedPaths.count ? " and \(result.differed - result.differedPaths.count) more" : "")
                            return StepResult(
                                message: counts, result: recorded,
                                failure: "The restore drill of backup \(name) in repository \(repository) restored \(result.differed) file\(result.differed == 1 ? "" : "s") that differ\(result.differed == 1 ? "s" : "") from the unchanged source: \(listed)."
                            )
                        }
                        return StepResult(message: counts, result: recorded)
                    }
                }
            }
        case .unlock(let repository):
            await attempting(repository, policy: configuration.retry, run: &run) { run in
                await step(id: "unlock:\(repository)", name: "remove stale locks of \(repository)", repository: repository, run: &run) { driver, events in
                    try await driver.unlock(events: events)
                    return StepResult(message: "stale locks removed")
                }
            }
        }
    }

    /// Runs one repository's work, and runs it again after a failure that may pass by itself (see
    /// ``RetryPolicy``), up to `policy.attempts` tries in all with a growing wait between them. Each try's
    /// steps are steps of this job; only the last try's failure is the job's.
    private func attempting(_ repository: String, policy: RetryPolicy, run: inout Run, _ body: (inout Run) async -> Void) async {
        run.attempts = policy.attempts
        defer { run.attempt = 1; run.attempts = 1 }
        for attempt in 1...max(1, policy.attempts) {
            run.attempt = attempt
            run.transient = nil
            let failuresBefore = run.failures.count
            await body(&run)
            guard run.failures.count > failuresBefore, let reason = run.transient, !run.stopped, !Task.isCancelled else { return }
            guard attempt < policy.attempts else {
                if attempt > 1, let last = run.failures.indices.last {
                    run.failures[last] = run.failures[last].trimmingCharacters(in: CharacterSet(charactersIn: ".")) + " (tried \(attempt) times)."
                }
                return
            }
            run.failures.removeSubrange(failuresBefore...)
            let wait = policy.wait(after: attempt)
            run.report(.log(.warning, "Try \(attempt) of \(policy.attempts) on \(repository) failed (\(reason)); trying again in \(DurationText.format(wait))."))
            do {
                try await sleep(wait)
            } catch {
                run.stopped = true
                return
            }
        }
    }

    /// What became of a repository that restic said does not exist.
    enum Creation {
        case created
        /// Not allowed (auto_init false, recovery mode): the sentence to fail with.
        case refused(String)
        /// The init step failed (recorded already) or was stopped.
        case failed(String)
    }

    /// A repository that a backup, prune or check found missing (the driver said `.repositoryMissing`; no
    /// run asks beforehand) is created when `auto_init` allows it, as a step of its own so that the record
    /// says so. `limits` are the backup's (they combine with the repository's and the global ones).
    private func createMissingRepository(_ repository: String, niceness: Niceness, limits: TransferLimits, run: inout Run) async -> Creation {
        guard let definition = configuration.repositories[repository] else {
            return .refused("Repository \(repository) is not in the configuration.")
        }
        guard configuration.mode != .recovery else {
            return .refused("Repository \"\(repository)\" does not exist, and recovery mode never creates one.")
        }
        guard definition.autoInit else {
            // No tool named here: how to create one by hand is the driver's business (restic init, borg init, mkdir).
            return .refused("Repository \"\(repository)\" does not exist and auto_init is false: set auto_init: true to let Hen create it, or create it yourself with the \(definition.driver) tool.")
        }
        let hostname = configuration.hostname
        let created = await step(id: "init:\(repository)", name: "initialize \(repository)", repository: repository, niceness: niceness, limits: limits, run: &run) { driver, events in
            let result = try await driver.initialize(events: events)
            // Created now, so it holds no snapshot: the cached list says so without a listing.
            if result == .created { await catalog?.repositoryCreated(repository: repository, hostname: hostname, now: now()) }
            return StepResult(message: result == .created ? "created" : "already initialized")
        }
        return created ? .created : .failed(run.stopped ? "stopped" : "Repository \"\(repository)\" could not be created (see its init step).")
    }

    private func backUp(_ backup: Configuration.Backup, to repository: String, run: inout Run) async {
        guard let definition = configuration.repositories[repository] else {
            return run.failStep(id: "backup:\(repository)", name: "backup to \(repository)", repository: repository, message: "Repository \(repository) of backup \(backup.name) is not in the configuration.")
        }
        let limits = backup.limits.combined(with: definition.limits).combined(with: configuration.limits)
        let request = BackupRequest(
            paths: backup.paths,
            excludes: backup.excludes,
            tags: [SnapshotTag.backup(backup.name), SnapshotTag.job(run.record.id)],
            limits: limits
        )
        let (catalog, store, jobID, hostname, now) = (self.catalog, self.store, run.record.id, configuration.hostname, self.now)
        let hasAlarm = backup.alarm != nil
        let countLogger = stepLogger("backup:\(repository)", repository: repository)
        // The backup step gets a driver of its own, so that its lines say `step: backup:<repository>`.
        let succeeded = await step(id: "backup:\(repository)", name: "backup to \(repository)", repository: repository, niceness: backup.nice, limits: backup.limits, createsRepository: true, run: &run) { driver, events in
            // The parent the cache knows (no driver run) is given to the driver, so that its counts are against it.
            var expected = await catalog?.expectedParent(repository: repository, hostname: hostname, backup: backup.name) ?? .unknown
            var request = request
            if case .snapshot(let parent) = expected { request.parent = parent.id }
            let summary = try await driver.backup(request, events: events)
            // The new snapshot goes into the cached list as the backup described it: no listing after the run.
            if let snapshot = summary.snapshot, summary.onlySnapshot == true {
                // Alone in the repository (a first backup): the list is complete with it, and it has no parent,
                // even when the cache had never listed the repository.
                await catalog?.recordOnlySnapshot(jobID: jobID, repository: repository, hostname: hostname, snapshot: snapshot, now: now())
                expected = .none
            } else if let snapshot = summary.snapshot {
                await catalog?.recordBackup(jobID: jobID, repository: repository, hostname: hostname, snapshot: snapshot)
            }
            // A driver that does not count new, changed and unmodified files leaves them unknown, not zero.
            let counted = summary.fileCountsKnown != false
            var result = RepositoryResult(
                repository: repository, snapshotID: summary.snapshotID, filesNew: counted ? summary.filesNew : nil,
                filesChanged: counted ? summary.filesChanged : nil, filesUnmodified: counted ? summary.filesUnmodified : nil,
                filesProcessed: summary.totalFilesProcessed, bytesProcessed: summary.totalBytesProcessed, bytesAdded: summary.dataAdded
            )
            var warnings = summary.warnings
            var message = counted
                ? "snapshot \(summary.snapshotID.prefix(8)): \(summary.filesNew) new, \(summary.filesChanged) changed, \(summary.filesUnmodified) unmodified files, \(summary.dataAdded) bytes added"
                : "snapshot \(summary.snapshotID.prefix(8)): \(summary.totalFilesProcessed) files, \(summary.dataAdded) bytes added"
            if let catalog {
                // What the snapshot changed against its parent: recorded, and what the alarm judges by.
                do {
                    if let found = try await Self.changesAgainstParent(summary, expected: expected, repository: repository, hostname: hostname, catalog: catalog, store: store, driver: driver, now: now()) {
                        result.snapshotID = found.newer
                        result.parentSnapshotID = found.older
                        result.filesAdded = found.added
                        result.filesRemoved = found.removed
                        result.filesModified = found.modified
                        message += "; against its parent \(found.older.prefix(8)): \(found.added) added, \(found.removed) removed, \(found.modified) modified"
                    }
                } catch where Self.isCancellation(error) || Task.isCancelled {
                    // restic has saved the snapshot: the record keeps it (and says the counting stopped), so that
                    // every snapshot of the repository is in a record.
                    warnings.append("Stopped before the changes of snapshot \(summary.snapshotID.prefix(8)) against its parent were counted.")
                    return StepResult(message: message, warnings: warnings, result: result)
                } catch {
                    // Without an alarm to judge by them, missing counts are worth a line of the daemon's log, not a warning.
                    let sentence = "The changes of snapshot \(summary.snapshotID.prefix(8)) against its parent could not be counted: \(Self.message(error, repository: repository))"
                    if hasAlarm {
                        warnings.append(sentence + " The mass-deletion alarm could not judge it.")
                    } else {
                        countLogger.warning("\(sentence)")
                    }
                }
            }
            if let alarm = backup.alarm, let verdict = Self.alarmVerdict(result, of: backup, alarm: alarm) {
                result.alarm = true
                warnings.append(verdict.sentence + (alarm.protect ? " Its prunes are held back until someone runs `hen-backup alarm ack \(backup.name)`." : ""))
            }
            return StepResult(message: message, warnings: warnings, result: result)
        }
        if succeeded, let alarm = backup.alarm, let result = run.results.last, result.repository == repository, result.alarm == true,
           let verdict = Self.alarmVerdict(result, of: backup, alarm: alarm) {
            await raise(verdict, of: backup, run: &run)
        }
    }

    /// What a new snapshot changed against its parent (the newest earlier snapshot of its backup in the
    /// repository): both full ids and the files added, removed and modified, or nil when it is the first of
    /// its backup there.
    ///
    /// Without any driver run when the driver counted against the parent the cache named
    /// (`summary.parentSnapshotID`) and that parent's own backup job recorded how many files it held: added
    /// are the new files, modified the changed ones, removed the parent's files that are neither changed nor
    /// unmodified. Otherwise the repository's list is read again (a stale cache; a parent forgotten outside
    /// Hen), and the counts come from the summary when the driver's parent is that parent, else from the
    /// driver's diff (a parent that no Hen job made, or whose job record is gone).
    static func changesAgainstParent(
        _ summary: BackupSummary, expected: ExpectedParent, repository: String, hostname: String,
        catalog: SnapshotCatalog, store: JobStore?, driver: any BackupDriver, now: Date
    ) async throws -> (older: String, newer: String, added: Int, removed: Int, modified: Int)? {
        let newer: String
        let parent: Snapshot
        switch expected {
        case .none:
            return nil
        case .snapshot(let cached) where summary.parentSnapshotID == cached.id && summary.snapshotID.utf8.count == 64:
            (newer, parent) = (summary.snapshotID, cached)
        default:
            let listed = try await catalog.listedWithParent(repository: repository, snapshotID: summary.snapshotID, hostname: hostname, driver: driver, now: now)
            guard let found = listed.parent else { return nil }
            (newer, parent) = (listed.snapshot.id, found)
            if summary.parentSnapshotID != parent.id && listed.snapshot.parent != parent.id {
                let counts = try await catalog.diff(repository: repository, from: parent.id, to: newer, driver: driver, now: now)
                return (parent.id, newer, counts.added, counts.removed, counts.modified)
            }
        }
        guard let parentFiles = await filesRecorded(for: parent, repository: repository, store: store) else {
            let counts = try await catalog.diff(repository: repository, from: parent.id, to: newer, driver: driver, now: now)
            return (parent.id, newer, counts.added, counts.removed, counts.modified)
        }
        let kept = summary.filesChanged + summary.filesUnmodified
        let removed = parentFiles > kept ? parentFiles - kept : 0
        return (parent.id, newer, Int(clamping: summary.filesNew), Int(clamping: removed), Int(clamping: summary.filesChanged))
    }

    /// How many files a snapshot holds, as the backup job that made it (its `job=` tag) recorded; nil when no
    /// such record is kept.
    static func filesRecorded(for snapshot: Snapshot, repository: String, store: JobStore?) async -> UInt64? {
        guard let store, let jobID = snapshot.jobID, let record = try? await store.record(id: jobID), case .backup = record.request else { return nil }
        let made = record.results.first { result in
            guard result.repository == repository, let id = result.snapshotID, id.utf8.count >= 8 else { return false }
            return snapshot.id.hasPrefix(id.lowercased())
        }
        return made?.filesProcessed
    }

    /// The mass-deletion alarm's verdict on a backup's result: when the snapshot removed more than
    /// `alarm.removed_over` against its parent, the alarm with its one sentence.
    static func alarmVerdict(_ result: RepositoryResult, of backup: Configuration.Backup, alarm: Configuration.Backup.Alarm) -> (alarm: BackupAlarm, sentence: String)? {
        guard let snapshot = result.snapshotID, let parent = result.parentSnapshotID, let removed = result.filesRemoved, let added = result.filesAdded else { return nil }
        // Files of the parent: those of the new snapshot, less the added, plus the removed.
        let parentFiles = max(removed, Int(clamping: result.filesProcessed ?? 0) - added + removed)
        guard let sentence = BackupAlarm.evaluate(
            backup: backup.name, repository: result.repository, snapshotID: snapshot, parentSnapshotID: parent,
            removed: removed, parentFiles: parentFiles, threshold: alarm.removedOver
        ) else { return nil }
        let raised = BackupAlarm(
            backup: backup.name, repository: result.repository, jobID: "", snapshotID: snapshot, parentSnapshotID: parent,
            removed: removed, parentFiles: parentFiles, threshold: alarm.removedOver.description, message: sentence, raisedAt: .distantPast
        )
        return (raised, sentence)
    }

    /// Records a raised alarm (holding prunes back when `protect` is set) for the alarm hooks, the metrics
    /// and the health check; the job already ends `warning` with its sentence.
    private func raise(_ verdict: (alarm: BackupAlarm, sentence: String), of backup: Configuration.Backup, run: inout Run) async {
        run.alarms.append(verdict.sentence)
        var alarm = verdict.alarm
        alarm.jobID = run.record.id
        alarm.raisedAt = now()
        do {
            try await store?.raise(alarm)
        } catch {
            run.fail("The mass-deletion alarm of backup \(backup.name) could not be recorded, so its prunes are not held back: \(error)")
        }
    }

    // MARK: Steps

    struct StepResult: Sendable {
        var message: String
        var warnings: [String] = []
        var result: RepositoryResult?
        /// The operation ran but found something wrong (a drill's file that differs): the step fails with
        /// this sentence, and its result is kept.
        var failure: String?
    }

    /// Runs one driver operation as a step; true when it succeeded (possibly with warnings).
    /// With `createsRepository`, a driver that says the repository does not exist gets it created (when
    /// allowed, ``createMissingRepository``) and the operation is tried once more, in the same step.
    @discardableResult
    private func step(
        id: String, name: String, repository: String, niceness: Niceness = Niceness(), limits: TransferLimits = TransferLimits(), createsRepository: Bool = false, run: inout Run,
        _ body: @Sendable (any BackupDriver, @escaping DriverEventHandler) async throws -> StepResult
    ) async -> Bool {
        let report = run.report
        let events: DriverEventHandler = { report(.driver($0)) }
        var step = JobStep(id: run.attemptID(id), name: run.attemptName(name), repository: repository, state: .running, startedAt: now())
        report(.step(step))
        do {
            let driver = try makeDriver(repository, niceness, limits, stepLogger(id, repository: repository))
            let outcome: StepResult
            do {
                outcome = try await body(driver, events)
            } catch let error as DriverError where error.code == .repositoryMissing && createsRepository && !Task.isCancelled {
                switch await createMissingRepository(repository, niceness: niceness, limits: limits, run: &run) {
                case .created:
                    // The operation's step goes on: said again, so that its lines carry its step and driver once more.
                    report(.step(step))
                    outcome = try await body(driver, events)
                case .refused(let message):
                    step.state = .failed
                    step.message = message
                    step.endedAt = now()
                    run.fail(message)
                    report(.step(step))
                    return false
                case .failed(let message):
                    step.state = run.stopped ? .cancelled : .failed
                    step.message = message
                    step.endedAt = now()
                    report(.step(step))
                    return false
                }
            }
            for warning in outcome.warnings { report(.warning(warning)) }
            if let result = outcome.result {
                report(.result(result))
                run.results.append(result)
            }
            step.state = outcome.warnings.isEmpty ? .succeeded : .warning
            step.message = outcome.message
            if !outcome.warnings.isEmpty { run.warned = true }
            step.endedAt = now()
            if let failure = outcome.failure {
                step.state = .failed
                step.message = failure
                run.fail(failure)
            }
            report(.step(step))
            return outcome.failure == nil
        } catch {
            step.endedAt = now()
            if Self.isCancellation(error) || Task.isCancelled {
                step.state = .cancelled
                step.message = "stopped"
                run.stopped = true
            } else {
                step.state = .failed
                step.message = Self.message(error, repository: repository)
                run.noteTransient(error)
                run.fail(step.message ?? "")
                if let detail = (error as? DriverError)?.detail, !detail.isEmpty {
                    report(.log(.error, detail))
                }
            }
            report(.step(step))
            return false
        }
    }

    /// The job's logger for one step.
    func stepLogger(_ step: String, repository: String) -> Logger {
        var stepLogger = logger
        stepLogger[metadataKey: "step"] = "\(step)"
        stepLogger[metadataKey: "repository"] = "\(repository)"
        return stepLogger
    }

    static func isCancellation(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        if let error = error as? DriverError, error.code == .cancelled { return true }
        return false
    }

    /// A driver's failure after which what it restored was moved into place: the driver's error (its code and
    /// detail kept) and where the files restored so far are.
    static func partialRestore(_ error: any Error, staging: RestoreStaging, repository: String) -> any Error {
        let note: String
        do {
            let kept = try staging.moveIntoPlace()
            note = "Whatever was restored before the failure is in place in \(staging.target)" + (kept.isEmpty ? "." : "; " + kept.joined(separator: " "))
        } catch {
            note = "What was restored before the failure could not all be moved into place: \((error as? EngineError)?.message ?? "\(error)")"
        }
        if var failure = error as? DriverError {
            failure.message = message(failure, repository: repository) + " " + note
            return failure
        }
        return EngineError(.failed, message(error, repository: repository) + " " + note)
    }

    /// One sentence naming the repository.
    static func message(_ error: any Error, repository: String) -> String {
        if let error = error as? DriverError {
            return error.message.contains(repository) ? error.message : "Repository \"\(repository)\": \(error.message)"
        }
        if let error = error as? EngineError { return error.message }
        return "Repository \"\(repository)\": \(error)"
    }
}

extension JobRunner {
    /// What a run found out so far.
    struct Run {
        var record: JobRecord
        var report: @Sendable (JobUpdate) -> Void
        var now: @Sendable () -> Date
        var failures: [String] = []
        var warned = false
        var stopped = false
        var results: [RepositoryResult] = []
        /// The mass-deletion alarms this backup set off, one sentence each.
        var alarms: [String] = []
        /// The try of the current repository's work (1 for the first) and how many it may have.
        var attempt = 1
        var attempts = 1
        /// Why the last failure may pass by itself, when it may (set by the failing step).
        var transient: String?

        /// A step's id on a retry: `backup:local#2`, so every try is a step of its own in the record.
        func attemptID(_ id: String) -> String { attempt > 1 ? "\(id)#\(attempt)" : id }
        func attemptName(_ name: String) -> String { attempt > 1 ? "\(name) (try \(attempt) of \(attempts))" : name }

        mutating func noteTransient(_ error: any Error) {
            if let error = error as? DriverError, error.isTransient { transient = error.transientReason }
        }

        init(record: JobRecord, report: @escaping @Sendable (JobUpdate) -> Void, now: @escaping @Sendable () -> Date) {
            self.record = record
            self.report = report
            self.now = now
        }

        /// The job's error: the first failure, and how many more there were.
        var failure: String? {
            guard let first = failures.first else { return nil }
            return failures.count == 1 ? first : "\(first) (and \(failures.count - 1) more failure\(failures.count == 2 ? "" : "s"))"
        }

        mutating func fail(_ message: String) {
            failures.append(message)
            report(.log(.error, message))
        }

        mutating func failStep(id: String, name: String, repository: String, message: String) {
            let date = now()
            report(.step(JobStep(id: attemptID(id), name: attemptName(name), repository: repository, state: .failed, startedAt: date, endedAt: date, message: message)))
            fail(message)
        }

        mutating func absorb(_ outcome: HookPhaseOutcome) {
            for warning in outcome.warnings { report(.warning(warning)) }
            if !outcome.warnings.isEmpty { warned = true }
            if outcome.cancelled { stopped = true }
            if outcome.failed || outcome.broke { fail(outcome.error ?? "A \(outcome.phase.rawValue) hook of the job failed.") }
        }

        func hookContext(_ configuration: Configuration, state: JobState) -> HookRunContext {
            HookRunContext(
                jobID: record.id, operation: record.operation, backup: record.request.backup, repositories: record.repositories,
                trigger: record.trigger.kind, state: state.rawValue, error: failure, snapshotIDs: results.compactMap(\.snapshotID),
                hostname: configuration.hostname
            )
        }

        func outcome(stopped: Bool) -> JobOutcome {
            if let failure { return JobOutcome(state: .failed, error: failure, stopped: stopped) }
            return JobOutcome(state: warned ? .warning : .succeeded, error: nil, stopped: stopped)
        }
    }
}
