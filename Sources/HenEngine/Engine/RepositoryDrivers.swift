import Foundation
import HenDrivers
import HenProcess
import Logging

/// Builds a repository's driver by its `driver:` name from the registry, with the configuration in force:
/// its host, executables, a cache below `data_dir/cache`, and the transfer limits that apply.
struct RepositoryDrivers: Sendable {
    let configuration: ConfigurationInForce
    let registry: DriverRegistry
    let logger: Logger

    /// `limits` (a backup's, for its prune) combine with the repository's and the global ones: per direction
    /// the smallest wins, for every operation (downloads, restores and checks included).
    func driver(forRepository name: String, niceness: Niceness = Niceness(), limits: TransferLimits = TransferLimits(), logger base: Logger? = nil) throws -> any BackupDriver {
        try configuration.current.makeDriver(forRepository: name, registry: registry, niceness: niceness, limits: limits, logger: base ?? logger)
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
}
