import Foundation
import HenDrivers
import Logging
import Metrics
import ServiceLifecycle

/// Queues a backup soon after its files change: for each backup with `watch:` configured, an
/// ``InotifyWatcher`` feeds a ``ChangeDebouncer`` whose bursts are handed to `submit` (the daemon wires
/// it to `Engine.submit` with trigger `watch(paths:count:)`).
///
/// A watcher that hits the kernel's limits degrades (a warning in the log and in ``status()``) and its
/// backup runs on its schedules only; the other watchers go on. A restore writing into watched paths
/// wraps its work in ``suppress(paths:while:)`` so its own writes do not queue a backup.
public struct WatchService: Service {
    /// Called once per burst: the backup's name, the first changed paths, and how many changes.
    public typealias Submit = @Sendable (_ backup: String, _ paths: [String], _ count: Int) async -> Void

    let backups: [Configuration.Backup]
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    let logger: Logger
    let calls: InotifyCalls
    let submit: Submit
    let watchers = WatcherSet()
    let metrics: EngineMetrics

    /// - Parameters:
    ///   - backups: all backups; those without `watch` are ignored.
    ///   - clock: times the quiet period and `max_wait`.
    ///   - now: the wall time shown in ``status()``.
    ///   - calls: the inotify calls (tests inject the kernel's failures).
    public init(
        backups: [Configuration.Backup],
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger,
        calls: InotifyCalls = .system,
        metrics: (any MetricsFactory)? = nil,
        submit: @escaping Submit
    ) {
        self.metrics = EngineMetrics(factory: metrics ?? MetricsSystem.factory)
        self.backups = backups.filter { $0.watch != nil }
        self.clock = clock
        self.now = now
        self.logger = logger
        self.calls = calls
        self.submit = submit
    }

    public func run() async throws {
        // A graceful shutdown cancels the watchers: that is the normal end.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for backup in backups {
                    group.addTask { await watch(backup) }
                }
            }
            // Nothing (left) to watch, every watcher degraded: stay until the daemon stops, because a
            // service that returns early ends the whole service group.
            try? await gracefulShutdown()
        }
    }

    /// Watches one backup until cancelled or degraded.
    func watch(_ backup: Configuration.Backup) async {
        guard let settings = backup.watch else { return }
        let excludes: ExcludeMatcher
        do {
            excludes = try ExcludeMatcher(patterns: backup.excludes)
        } catch {
            let degradation = WatchDegradation(code: "invalid_exclude_pattern", message: "Backup \"\(backup.name)\" is not watched for changes: \(error.message)")
            logger.warning("\(degradation.message)", metadata: ["backup": "\(backup.name)", "code": "\(degradation.code)"])
            await watchers.setState(backup.name, .degraded, degraded: degradation)
            return
        }
        let watcher = InotifyWatcher(backup: backup.name, paths: backup.paths, excludes: excludes, logger: logger, calls: calls)
        let debouncer = ChangeDebouncer(latency: settings.latency, maxWait: settings.maxWait, clock: clock)
        await watchers.register(backup.name, watcher: watcher, debouncer: debouncer)
        let changes = await watcher.start()
        metrics.watches(backup: backup.name, count: watcher.watchCount)
        if let degradation = watcher.degradation {
            await watchers.setState(backup.name, .degraded, degraded: degradation)
        } else {
            await watchers.setState(backup.name, .watching)
        }

        let watchers = self.watchers
        let now = self.now
        let submit = self.submit
        let logger = self.logger
        let metrics = self.metrics
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await batch in changes {
                    metrics.watchEvents(backup: backup.name, count: batch.count)
                    metrics.watches(backup: backup.name, count: watcher.watchCount)
                    await debouncer.record(batch)
                    await watchers.noteChange(backup.name, at: now())
                }
                // The stream ended by itself (degraded): changes already seen still queue a backup.
                if !Task.isCancelled { await debouncer.finish() }
            }
            group.addTask {
                try? await debouncer.run { burst in
                    await watchers.noteTrigger(backup.name, at: now())
                    metrics.watchTriggered(backup: backup.name)
                    logger.info("Files changed: queueing a backup.", metadata: [
                        "backup": "\(backup.name)", "changes": "\(burst.count)", "paths": "\(burst.paths.joined(separator: ", "))",
                    ])
                    await submit(backup.name, burst.paths, burst.count)
                }
            }
        }
        watcher.stop()
        metrics.watches(backup: backup.name, count: 0)
        if let degradation = watcher.degradation {
            await watchers.setState(backup.name, .degraded, degraded: degradation)
        } else {
            await watchers.setState(backup.name, .stopped)
        }
    }

    /// Every watched backup's watcher, in configuration order.
    public func status() async -> [WatchStatus] {
        var result: [WatchStatus] = []
        let date = now()
        for backup in backups {
            let entry = await watchers.entry(backup.name)
            var pendingTrigger: Date?
            var pendingChanges = 0
            if let debouncer = entry?.debouncer, let fireTime = await debouncer.fireTime {
                let remaining = fireTime - debouncer.now
                pendingTrigger = date.addingTimeInterval(max(0, remaining.seconds))
                pendingChanges = await debouncer.pending?.count ?? 0
            }
            let watcher = entry?.watcher
            result.append(WatchStatus(
                backup: backup.name,
                paths: watcher?.paths ?? backup.paths,
                latencySeconds: backup.watch?.latency.seconds ?? 0,
                maxWaitSeconds: backup.watch?.maxWait.seconds ?? 0,
                state: entry?.state ?? .starting,
                watches: watcher?.watchCount ?? 0,
                degraded: watcher?.degradation ?? entry?.degraded,
                lastChange: entry?.lastChange,
                pendingTrigger: pendingTrigger,
                pendingChanges: pendingChanges,
                lastTrigger: entry?.lastTrigger
            ))
        }
        return result
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension WatchService: CustomStringConvertible {
    /// Short on purpose: service-lifecycle prints a failed service, and a backup's hooks may hold secrets.
    public var description: String {
        "WatchService(backups: \(backups.map(\.name).joined(separator: ", ")))"
    }
}
