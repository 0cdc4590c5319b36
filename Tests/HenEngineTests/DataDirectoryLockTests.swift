import Foundation
import Testing
@testable import HenEngine

/// The data directory's lock in one process: `flock` locks belong to an open file, so a second open of
/// the same file conflicts here as it does from another process.
@Suite struct DataDirectoryLockTests {
    func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hen-lock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aSecondClaimIsRefusedWithTheHoldersPIDUntilTheFirstIsGone() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first: DataDirectoryLock? = try DataDirectoryLock(dataDirectory: directory, role: "daemon")
        #expect(throws: EngineError(.dataDirectoryInUse, "The data directory \(directory) is in use by another hen-backup (daemon, PID \(getpid())); stop it first, or give this one its own data_dir.")) {
            try DataDirectoryLock(dataDirectory: directory, role: "a command running a job")
        }
        #expect(first != nil)
        first = nil
        let second = try DataDirectoryLock(dataDirectory: directory, role: "a command running a job")
        #expect(try String(contentsOfFile: second.path, encoding: .utf8) == "\(getpid()) a command running a job\n")
    }

    @Test func aLockFileThatIsALinkOrHasTwoNamesIsRefusedUntouched() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let other = "\(directory)/precious.txt"
        try "keep me".write(toFile: other, atomically: false, encoding: .utf8)

        // A symbolic link named hen.lock is not followed.
        #expect(symlink(other, "\(directory)/hen.lock") == 0)
        #expect(throws: EngineError.self) { try DataDirectoryLock(dataDirectory: directory, role: "daemon") }
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "keep me")

        // A hard link to another file is not truncated.
        #expect(unlink("\(directory)/hen.lock") == 0)
        #expect(link(other, "\(directory)/hen.lock") == 0)
        do {
            _ = try DataDirectoryLock(dataDirectory: directory, role: "daemon")
            Issue.record("a hard-linked lock file was taken")
        } catch {
            #expect(error.code == .store)
            #expect(error.message.contains("not a plain file of this user with a single name"), "\(error.message)")
        }
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "keep me")
    }
}
