import Foundation
import Testing
@testable import HenEngine

/// How a restore's staging directory is moved into place, on a real file system (the drivers' part is
/// played by writing into ``RestoreStaging/driverTarget``, as restic and tar do).
@Suite struct RestoreStagingTests {
    /// `allowed/` (the allowed target) and `elsewhere/` (where links lead) in a temporary directory.
    struct Scratch {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-staging-\(UUID().uuidString)").path
        var allowed: String { root + "/allowed" }
        var elsewhere: String { root + "/elsewhere" }

        init() throws {
            try FileManager.default.createDirectory(atPath: root + "/allowed", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        }

        func write(_ path: String, _ text: String = "x") throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }

        func kind(_ path: String) -> FileAttributeType? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        }

        func entries(_ path: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func directoriesMergeAndALinkOnDiskIsReplacedNotFollowed() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        try scratch.write(target + "/data/old.txt", "old")
        try scratch.write(target + "/data/file.txt", "before")
        try FileManager.default.createSymbolicLink(atPath: target + "/data/link", withDestinationPath: scratch.elsewhere)

        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        #expect(scratch.entries(target).contains { $0.hasPrefix(".hen-restore-") })
        try scratch.write(staging.driverTarget + "/data/file.txt", "restored")
        try scratch.write(staging.driverTarget + "/data/link/pwned.txt", "pwned")
        let warnings = try staging.moveIntoPlace()

        #expect(warnings.isEmpty, "\(warnings)")
        #expect(scratch.entries(target) == ["data"])
        #expect(try String(contentsOfFile: target + "/data/old.txt", encoding: .utf8) == "old")
        #expect(try String(contentsOfFile: target + "/data/file.txt", encoding: .utf8) == "restored")
        #expect(scratch.kind(target + "/data/link") == .typeDirectory)
        #expect(FileManager.default.fileExists(atPath: target + "/data/link/pwned.txt"))
        #expect(scratch.entries(scratch.elsewhere).isEmpty)
    }

    @Test func aDirectoryOnDiskIsNeverReplacedByAFileTheStagingKeepsItAndTheJobIsWarned() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        try scratch.write(target + "/a/keep.txt", "mine")
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(staging.driverTarget + "/a", "a file in the snapshot")
        try scratch.write(staging.driverTarget + "/b/c.txt")
        let warnings = try staging.moveIntoPlace()

        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("(first: /a)") == true && warnings.first?.contains(staging.stagingPath) == true, "\(warnings)")
        #expect(try String(contentsOfFile: target + "/a/keep.txt", encoding: .utf8) == "mine")
        #expect(FileManager.default.fileExists(atPath: target + "/b/c.txt"))
        #expect(scratch.entries(staging.stagingPath) == ["a"])
    }

    @Test func aLinkThatAppearsBetweenTheCheckAndTheOpeningIsNotFollowed() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // As checked: allowed/swapped/deeper, no link. Then `swapped` becomes a link to elsewhere.
        let location = RestoreTarget.Location(allowed: scratch.allowed, allowedReal: scratch.allowed, below: ["swapped", "deeper"])
        try FileManager.default.createSymbolicLink(atPath: scratch.allowed + "/swapped", withDestinationPath: scratch.elsewhere)
        let error = #expect(throws: EngineError.self) {
            let directory = try RestoreStaging.openBelow(location, target: location.spelled)
            close(directory)
        }
        #expect(error?.message.contains("changed before the restore started") == true, "\(String(describing: error))")
        #expect(scratch.entries(scratch.elsewhere).isEmpty)
    }

    @Test func aTargetOutsideTheAllowedDirectoriesIsRefusedWhenTheRestoreStarts() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createSymbolicLink(atPath: scratch.allowed + "/t", withDestinationPath: scratch.elsewhere)
        let error = #expect(throws: EngineError.self) {
            _ = try RestoreStaging.prepare(target: scratch.allowed + "/t", scope: .allowedTargets, allowedTargets: [scratch.allowed])
        }
        #expect(error?.message.contains("is outside them (through a symbolic link") == true, "\(String(describing: error))")
        // The administrator's in-process restore follows the target they typed.
        let staging = try RestoreStaging.prepare(target: scratch.allowed + "/t", scope: .anywhere, allowedTargets: [scratch.allowed])
        try scratch.write(staging.driverTarget + "/f.txt")
        #expect(try staging.moveIntoPlace().isEmpty)
        #expect(scratch.entries(scratch.elsewhere) == ["f.txt"])
    }

    @Test func aFailedRestoreLeavesNoStagingBehind() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/new/t"
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(staging.driverTarget + "/deep/tree/file.txt")
        try FileManager.default.createSymbolicLink(atPath: staging.driverTarget + "/deep/link", withDestinationPath: scratch.elsewhere)
        staging.discard()
        #expect(scratch.entries(target).isEmpty)
        #expect(scratch.entries(scratch.elsewhere).isEmpty)
    }
}
