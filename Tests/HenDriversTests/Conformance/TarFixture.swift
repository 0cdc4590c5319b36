import Foundation
import HenDrivers

struct TarFixture: DriverFixture {
    var name: String { "tar" }
    var reports: DriverReports { [.linkTargets, .restoredFileCounts] }

    func makeDriver(repositoryDirectory: URL, hostname: String) throws -> any BackupDriver {
        try TarDriver(
            repository: RepositoryTarget(name: "conformance", location: repositoryDirectory.path),
            context: DriverContext(hostname: hostname)
        )
    }

    /// Flips one byte of a file's contents inside the archive (then recompresses it), so only the
    /// checksum comparison can notice.
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool {
        let archive = repositoryDirectory.appendingPathComponent("snapshots/\(snapshotID).tar.gz").path
        let plain = repositoryDirectory.appendingPathComponent("corrupt.tar").path
        try ConformanceShell.run("/usr/bin/gzip", ["-dc", archive], stdoutTo: plain)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: plain)))
        let marker = Array(ConformanceTree.plainContents.utf8)
        guard let start = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }) else {
            return false
        }
        bytes[start] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: plain))
        try ConformanceShell.run("/usr/bin/gzip", ["-c", "-n", plain], stdoutTo: archive)
        try FileManager.default.removeItem(atPath: plain)
        return true
    }
}
