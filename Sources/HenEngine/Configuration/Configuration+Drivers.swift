import Foundation
import HenDrivers
import HenProcess
import Logging

extension Configuration {
    /// The driver of a repository, built from `registry` with this configuration's host, executables, a
    /// cache below `data_dir/cache` and mode. `limits` (a backup's, for its prune) combine with the
    /// repository's and the global ones: per direction the smallest wins, for every operation.
    public func makeDriver(forRepository name: String, registry: DriverRegistry, niceness: Niceness = Niceness(), limits: TransferLimits = TransferLimits(), logger: Logger) throws -> any BackupDriver {
        guard let repository = repositories[name] else {
            throw unknownRepository(name)
        }
        // A job's driver logs with the job's identity (and its step), as the `driver` component.
        var driverLogger = logger
        driverLogger[metadataKey: "component"] = "driver"
        driverLogger[metadataKey: "repository"] = "\(name)"
        driverLogger[metadataKey: "driver"] = "\(repository.driver)"
        let context = DriverContext(
            hostname: hostname,
            executables: executables,
            cacheDirectory: (dataDirectory as NSString).appendingPathComponent("cache"),
            niceness: niceness,
            logger: driverLogger,
            readOnly: mode == .recovery
        )
        var target = repository.target
        target.limits = limits.combined(with: repository.limits).combined(with: self.limits)
        return try registry.makeDriver(repository.driver, repository: target, context: context)
    }

    /// The programs the configured repositories' drivers run, checked once per driver (`config check` and
    /// the daemon's start; a missing restic used to pass both and fail every job). The failures are one
    /// sentence each, naming the repositories that need the program.
    public func verifyDriverPrograms(registry: DriverRegistry, logger: Logger) async -> (found: [String], failures: [String]) {
        var found: [String] = []
        var failures: [String] = []
        var seen: [String: [String]] = [:]
        // One check per driver: every repository of a driver runs the same executables.
        for name in repositories.keys.sorted() {
            seen[repositories[name]!.driver, default: []].append(name)
        }
        for (driverName, names) in seen.sorted(by: { $0.key < $1.key }) {
            do {
                let driver = try makeDriver(forRepository: names[0], registry: registry, logger: logger)
                found += try await driver.verifyPrograms()
            } catch let error as DriverError {
                // One sentence: the driver's, its final period moved after the repositories that need it.
                let sentence = error.message.hasSuffix(".") ? String(error.message.dropLast()) : error.message
                failures.append("\(sentence) (needed by \(names.count == 1 ? "repository" : "repositories") \(names.joined(separator: ", "))).")
            } catch {
                failures.append("The \(driverName) driver cannot be used: \(error) (needed by \(names.joined(separator: ", "))).")
            }
        }
        return (found, failures)
    }
}
