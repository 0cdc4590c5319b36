import Foundation
import Testing
@testable import HenEngine
import HenDrivers

/// A temporary directory removed when the value goes away.
final class ConfigTempDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("hen-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ content: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    func makeDirectory(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
    }

    func loader(environment: [String: String] = [:], drivers: DriverRegistry = .standard) -> ConfigurationLoader {
        ConfigurationLoader(environment: environment, drivers: drivers, defaultHostname: "testhost", defaultTimeZone: TimeZone(identifier: "UTC")!)
    }

    /// Loads `yaml` as `config.yml` in this directory.
    func load(_ yaml: String, environment: [String: String] = [:], drivers: DriverRegistry = .standard) throws(ConfigurationError) -> Configuration {
        try loader(environment: environment, drivers: drivers).load(yaml: yaml, file: "config.yml", sourcePath: file("config.yml"))
    }

    /// The issues loading `yaml` reports (none when it loads).
    func issues(_ yaml: String, environment: [String: String] = [:], drivers: DriverRegistry = .standard) -> [String] {
        do {
            _ = try load(yaml, environment: environment, drivers: drivers)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }
}

/// The smallest valid file plus whatever a test adds: one global repository, one backup.
func minimalConfig(backupExtra: String = "", repositoryExtra: String = "", top: String = "") -> String {
    """
    \(top)repositories:
      main:
        location: ./repo
        password: pw\(repositoryExtra)
    backups:
      docs:
        paths: [./data]
        repositories: [main]
        schedules: [1h]\(backupExtra)

    """
}
