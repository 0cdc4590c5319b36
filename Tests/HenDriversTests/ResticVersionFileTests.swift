import Foundation
@testable import HenDrivers
import HenTestSupport
import Testing

/// restic's version kept on disk between processes, and forgotten when the executable changes.
@Suite struct ResticVersionFileTests {
    @Test func aStoredVersionCountsOnlyForTheSameExecutableFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-version-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        let executable = directory + "/bin/restic"
        try Data("#!/bin/sh\necho restic 0.16.4\n".utf8).write(to: URL(fileURLWithPath: executable))

        #expect(ResticVersionFile.read(executable, directory: directory + "/cache") == nil)
        // A cache directory that does not exist yet is not made (a `config check` must not create data_dir).
        ResticVersionFile.write(ResticVersion(major: 0, minor: 16, patch: 4), for: executable, directory: directory + "/cache")
        #expect(!FileManager.default.fileExists(atPath: directory + "/cache"))
        try FileManager.default.createDirectory(atPath: directory + "/cache", withIntermediateDirectories: true)
        ResticVersionFile.write(ResticVersion(major: 0, minor: 16, patch: 4), for: executable, directory: directory + "/cache")
        ResticVersionFile.write(ResticVersion(major: 0, minor: 14, patch: 0), for: Restic.path, directory: directory + "/cache")
        #expect(ResticVersionFile.read(executable, directory: directory + "/cache") == ResticVersion(major: 0, minor: 16, patch: 4))
        #expect(ResticVersionFile.read(Restic.path, directory: directory + "/cache") == ResticVersion(major: 0, minor: 14, patch: 0))

        // Replaced by another file (another size): asked again.
        try Data("#!/bin/sh\necho restic 0.17.0 compiled\n".utf8).write(to: URL(fileURLWithPath: executable))
        #expect(ResticVersionFile.read(executable, directory: directory + "/cache") == nil)
        ResticVersionFile.write(ResticVersion(major: 0, minor: 17, patch: 0), for: executable, directory: directory + "/cache")
        #expect(ResticVersionFile.read(executable, directory: directory + "/cache") == ResticVersion(major: 0, minor: 17, patch: 0))
        // One entry per executable path.
        let lines = try String(contentsOfFile: directory + "/cache/" + ResticVersionFile.name, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
    }
}
