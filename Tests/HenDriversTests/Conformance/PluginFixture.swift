import Foundation
import HenDrivers

/// A plugin driver as the daemon gets it: discovered next to the test binary (where `swift build` puts the
/// plugins) and described by itself.
enum PluginFixture {
    static func driver(_ name: String, repository: RepositoryTarget, hostname: String, cacheDirectory: String? = nil) async throws -> any BackupDriver {
        let (registry, problems) = await DriverRegistry.standard.addingPlugins(in: PluginDiscovery.standardDirectories())
        guard registry.contains(name) else {
            throw DriverError(.binaryMissing, "hen-plugin-\(name) was not found or did not describe itself (\(problems[name] ?? "not beside the tests: run swift build")).")
        }
        return try registry.makeDriver(name, repository: repository, context: DriverContext(hostname: hostname, cacheDirectory: cacheDirectory))
    }
}
