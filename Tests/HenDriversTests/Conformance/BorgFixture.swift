import Foundation
import HenDrivers
import HenProcess

/// The borg plugin (`hen-plugin-borg`, built beside the tests) through PluginDriver, with the real borg.
struct BorgFixture: DriverFixture {
    var name: String { "borg" }
    /// borg's listing gives link targets; its extract counts nothing.
    var reports: DriverReports { [.linkTargets] }

    /// The plugin as discovery finds it next to the test binary, described by itself (as the daemon does),
    /// with its caches in the scratch directory.
    func makeDriver(repositoryDirectory: URL, hostname: String) async throws -> any BackupDriver {
        try await PluginFixture.driver(
            "borg",
            repository: RepositoryTarget(name: "conformance", location: repositoryDirectory.path, password: Secret("conformance-password")),
            hostname: hostname, cacheDirectory: repositoryDirectory.deletingLastPathComponent().appendingPathComponent("borg-cache").path
        )
    }

    /// Flips a byte in the middle of the largest segment file: borg's repository check verifies every
    /// segment's checksums.
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool {
        let data = repositoryDirectory.appendingPathComponent("data")
        guard let enumerator = FileManager.default.enumerator(at: data, includingPropertiesForKeys: [.fileSizeKey]) else { return false }
        var largest: (URL, Int)?
        for case let file as URL in enumerator {
            let size = (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
            if size > (largest?.1 ?? 0) { largest = (file, size) }
        }
        guard let (file, size) = largest, size > 64 else { return false }
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[size / 2] ^= 0xFF
        try Data(bytes).write(to: file)
        return true
    }
}
