import Foundation
import HenDrivers
import HenProcess
import HenTestSupport

/// restic with a local repository in a temp dir and the real binary.
struct ResticFixture: DriverFixture {
    var name: String { "restic" }
    /// restic 0.14, the floor, has no link target in `ls --json` and no counts after `restore` (newer ones
    /// may give them: the scenario then checks they are right).
    var reports: DriverReports { [] }

    func makeDriver(repositoryDirectory: URL, hostname: String) throws -> any BackupDriver {
        try ResticDriver(
            repository: RepositoryTarget(name: "conformance", location: repositoryDirectory.path, password: Secret("conformance-password")),
            context: DriverContext(hostname: hostname, executables: ["restic": Restic.path], cacheDirectory: repositoryDirectory.deletingLastPathComponent().appendingPathComponent("restic-cache").path)
        )
    }

    /// Deletes a data pack: the structure check then finds blobs that snapshots reference but no pack holds.
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool {
        let data = repositoryDirectory.appendingPathComponent("data")
        guard let enumerator = FileManager.default.enumerator(at: data, includingPropertiesForKeys: [.isRegularFileKey]) else { return false }
        for case let file as URL in enumerator where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            try FileManager.default.removeItem(at: file)
            return true
        }
        return false
    }
}
