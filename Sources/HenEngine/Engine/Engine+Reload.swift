import Foundation
import Logging

/// Reloading the configuration: ``ConfigurationInForce`` decides what changes, the queue takes the new
/// limits, and what may start now starts.
extension Engine {
    /// Records the daemon's command-line overrides, so that a reloaded file gets them too (the daemon has
    /// already applied them to the configuration it built the engine with).
    public func setOverrides(_ overrides: ConfigurationOverrides) {
        configurationInForce.overrides = overrides
    }

    /// Reads the configuration file again (the one in force, with `loader`'s environment) and applies it with
    /// ``reload(_:)``. An invalid file throws its ``ConfigurationError`` and changes nothing.
    public func reloadConfigurationFile(loader: ConfigurationLoader) async throws(ConfigurationError) -> ReloadResult {
        let fresh = try loader.load(path: configuration.sourcePath)
        return try await reload(fresh)
    }

    /// Puts a new, valid configuration in force (throws, changing nothing, when it would open the API: see
    /// below): schedules, backups, repositories, hooks, limits, retention,
    /// restore targets, API users and tokens apply to the next job and request. Jobs already queued or running
    /// keep the settings they started with.
    ///
    /// What identifies the daemon (its `hostname`, `data_dir`, `mode`, `api.listen`) and the file watchers
    /// keep their old values until a restart; the result says which of them the new file changes.
    ///
    /// The API keeps listening where it listens; a file that turns auth off is refused while that address
    /// is reachable from other machines (the file's own `listen` may be loopback, but it is not in force).
    @discardableResult
    public func reload(_ proposed: Configuration) async throws(ConfigurationError) -> ReloadResult {
        let result = try configurationInForce.reload(proposed, at: now())
        let new = configuration
        secrets.update(from: new)
        await snapshotBrowser.snapshotCatalog.configurationChanged(new)
        await admission.reconfigure(new, concurrentBackupRepositories: RepositoryDrivers.concurrentBackupRepositories(new, registry: registry, logger: logger))
        logger.notice("Configuration reloaded.", metadata: [
            "config": "\(new.sourcePath)",
            "changed": "\(result.changed.isEmpty ? "nothing" : result.changed.joined(separator: ", "))",
            "restart_required": "\(result.restartRequired.joined(separator: ", "))",
        ])
        for warning in new.warnings { logger.warning("\(warning)") }
        // A lower concurrency or new priorities may let other jobs start now.
        await execution.dispatch()
        return result
    }
}
