import Foundation
import Logging

extension Engine {
    /// The daemon's file watching: a ``WatchService`` for every backup with `watch:`, whose bursts of changes
    /// queue a backup (trigger `watch`, with the first changed paths and their count). The engine keeps it to
    /// show its watchers in ``status()`` and to keep a restore's own writes from queueing a backup.
    public func makeWatchService(logger: Logger) -> WatchService {
        // Recovery mode backs nothing up, so nothing is watched.
        let watched = configuration.mode == .recovery ? [] : configuration.backups
        let service = WatchService(backups: watched, clock: clock, now: now, logger: logger, metrics: metricsFactory) { [self] backup, paths, count in
            do {
                _ = try await submit(JobRequest(operation: .backup(backup: backup, repositories: nil), trigger: .watch(paths: paths, count: count)))
            } catch {
                logger.warning("Changes in backup \"\(backup)\" could not queue a backup: \(error)", metadata: ["backup": "\(backup)"])
            }
        }
        execution.watchService = service
        return service
    }
}
