import Foundation
import HenDrivers

/// The rsync plugin (`hen-plugin-rsync`, built beside the tests) through PluginDriver, with the real rsync,
/// on a local directory.
struct RsyncFixture: DriverFixture {
    var name: String { "rsync" }
    /// find gives link targets; rsync's statistics count the restored files.
    var reports: DriverReports { [.linkTargets, .restoredFileCounts] }

    func makeDriver(repositoryDirectory: URL, hostname: String) async throws -> any BackupDriver {
        try await PluginFixture.driver("rsync", repository: RepositoryTarget(name: "conformance", location: repositoryDirectory.path), hostname: hostname)
    }

    /// Cuts the snapshot's largest file short, as a disk or a person on the NAS might: its size no longer
    /// matches what the snapshot's metadata recorded.
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool {
        let host = repositoryDirectory.appendingPathComponent("snapshots/host-a")
        for directory in try FileManager.default.contentsOfDirectory(atPath: host.path) where directory.hasSuffix(String(snapshotID.prefix(8))) {
            let files = host.appendingPathComponent(directory).appendingPathComponent("files")
            guard let enumerator = FileManager.default.enumerator(at: files, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return false }
            var largest: (URL, Int)?
            for case let file as URL in enumerator where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                let size = (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
                if size > (largest?.1 ?? 0) { largest = (file, size) }
            }
            guard let (file, size) = largest, size > 1 else { return false }
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: UInt64(size / 2))
            try handle.close()
            return true
        }
        return false
    }
}
