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

    /// A "/" followed by a combining mark is one character to Swift's String but a separator to the kernel:
    /// `allowed/../\u{301}x` climbs out of the allowed directory and is refused like any other "..".
    @Test func aDotDotHiddenBeforeACombiningMarkIsRefusedAndNothingIsCreatedOutside() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let error = #expect(throws: EngineError.self) {
            _ = try RestoreStaging.prepare(target: scratch.allowed + "/../\u{301}x", scope: .allowedTargets, allowedTargets: [scratch.allowed])
        }
        #expect(error?.message.contains("climbs with \"..\"") == true, "\(String(describing: error))")
        #expect(scratch.entries(scratch.root) == ["allowed", "elsewhere"])
        // Inside a snapshot likewise; a name that merely starts with a combining mark is a name.
        #expect(SnapshotPath.normalize("/a/../\u{301}b") == nil)
        #expect(SnapshotPath.normalize("/\u{301}b/./c/") == "/\u{301}b/c")
        #expect(SnapshotPath.normalize("\u{301}/b") == nil)
        #expect(SnapshotPath.split("/a/\u{301}b") == ("/a", "\u{301}b"))
    }

    @Test func aStoppedRestoreLeavesNoStagingBehindAndTheTargetInPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/new/t"
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(staging.driverTarget + "/deep/tree/file.txt")
        try FileManager.default.createSymbolicLink(atPath: staging.driverTarget + "/deep/link", withDestinationPath: scratch.elsewhere)
        #expect(staging.discard().isEmpty)
        // The target itself stays: only the staging directory goes.
        #expect(scratch.kind(target) == .typeDirectory)
        #expect(scratch.entries(target).isEmpty)
        #expect(scratch.entries(scratch.elsewhere).isEmpty)
    }

    /// What a local user who can write in the target puts where the staging directory was, between its
    /// creation and its opening.
    enum Swap: String, CaseIterable, Sendable {
        case ownedByAnotherUser, openToOthers, holdingALink
    }

    @Test(arguments: Swap.allCases)
    func aStagingDirectorySwappedBeforeItIsOpenedRefusesTheRestoreAndIsLeftAlone(_ swap: Swap) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        let elsewhere = scratch.elsewhere
        var seams = RestoreStaging.Seams()
        seams.afterCreating = { path in
            // Ours is renamed away; theirs, holding `tmp -> elsewhere`, takes its name.
            rename(path, path + ".ours")
            mkdir(path, 0o700)
            symlink(elsewhere, path + "/tmp")
            switch swap {
            case .ownedByAnotherUser: lchown(path, 65534, 65534)
            case .openToOthers: chmod(path, 0o755)
            case .holdingALink: break
            }
        }
        let error = #expect(throws: EngineError.self) {
            _ = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed], seams: seams)
        }
        #expect(error?.message.contains("was replaced by another one before the restore started") == true, "\(String(describing: error))")
        // Theirs is not touched (nor removed): nothing of Hen's runs through it.
        let theirs = scratch.entries(target).filter { !$0.hasSuffix(".ours") }
        #expect(theirs.count == 1 && theirs.first?.hasPrefix(RestoreStaging.prefix) == true, "\(theirs)")
        #expect(scratch.kind(target + "/" + (theirs.first ?? "") + "/tmp") == .typeSymbolicLink)
        #expect(scratch.entries(elsewhere).isEmpty)
    }

    @Test func aTargetInAStagingDirectoryIsRefusedAndARestoredStagingNameIsNotPutInPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for scope in [RestoreScope.allowedTargets, .anywhere] {
            let error = #expect(throws: EngineError.self) {
                _ = try RestoreStaging.prepare(target: scratch.allowed + "/t/.hen-restore-0123/x", scope: scope, allowedTargets: [scratch.allowed])
            }
            #expect(error?.code == .invalidRequest)
            #expect(error?.message.contains("staging of another restore") == true, "\(String(describing: error))")
        }
        let target = scratch.allowed + "/t"
        // `data/` on disk: the restore merges into it, name by name.
        try scratch.write(target + "/data/existing.txt")
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(staging.driverTarget + "/.hen-restore-planted/f.txt")
        try scratch.write(staging.driverTarget + "/data/.hen-restore-deeper")
        try scratch.write(staging.driverTarget + "/data/ok.txt")
        let warnings = try staging.moveIntoPlace()
        #expect(warnings.count == 1 && warnings.first?.contains("2 paths") == true, "\(warnings)")
        #expect(scratch.entries(target).filter { $0.hasPrefix(RestoreStaging.prefix) } == [(staging.stagingPath as NSString).lastPathComponent])
        #expect(scratch.entries(target + "/data") == ["existing.txt", "ok.txt"])
    }

    @Test func aDirectoryAnotherRestoreCreatesMeanwhileIsMergedNotAFailure() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        var seams = RestoreStaging.Seams()
        seams.beforeMoving = { relative in
            // A second restore into the same target puts its own `shared/` in place first.
            guard relative == "/shared" else { return }
            try? FileManager.default.createDirectory(atPath: target + "/shared", withIntermediateDirectories: true)
            try? "theirs".write(toFile: target + "/shared/theirs.txt", atomically: false, encoding: .utf8)
        }
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed], seams: seams)
        try scratch.write(staging.driverTarget + "/shared/ours.txt")
        #expect(try staging.moveIntoPlace().isEmpty)
        #expect(scratch.entries(target + "/shared") == ["ours.txt", "theirs.txt"])
        #expect(scratch.entries(target) == ["shared"])
    }

    @Test func aMoveThatFailsOnDiskIsNotTheClientsFault() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        try FileManager.default.createDirectory(atPath: target + "/d", withIntermediateDirectories: true)
        var seams = RestoreStaging.Seams()
        // The directory the file is moved into disappears under it.
        seams.beforeMoving = { relative in if relative == "/d/f.txt" { rmdir(target + "/d") } }
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed], seams: seams)
        try scratch.write(staging.driverTarget + "/d/f.txt")
        let error = #expect(throws: EngineError.self) { _ = try staging.moveIntoPlace() }
        #expect(error?.code == .failed, "\(String(describing: error))")
        #expect(error?.message.contains("what was not moved yet is in \(staging.stagingPath)") == true, "\(String(describing: error))")
    }

    /// `setfsuid` for this thread only: a root test process acts as another user on the file system
    /// (the capabilities that override file modes are dropped with it) without a child process.
    private static let setfsuid = unsafeBitCast(dlsym(nil, "setfsuid")!, to: (@convention(c) (UInt32) -> Int32).self)

    private static func chownTree(_ path: String, to user: UInt32) {
        lchown(path, user, user)
        for entry in (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? [] {
            lchown(path + "/" + entry, user, user)
        }
    }

    private static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    @Test func readOnlyDirectoriesAreMergedAndDiscardedByADaemonThatIsNotRoot() throws {
        guard geteuid() == 0 else { return }  // becoming another user needs root
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        // An earlier restore left `ro/` read-only, as the snapshot has it.
        try scratch.write(target + "/ro/old.txt", "old")
        let merging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(merging.driverTarget + "/ro/new.txt", "new")
        try scratch.write(merging.driverTarget + "/fresh/inner/f.txt")
        let stopped = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(stopped.driverTarget + "/locked/deeper/f.txt")
        for path in [target + "/ro", merging.stagingPath + "/ro", merging.stagingPath + "/fresh/inner", merging.stagingPath + "/fresh",
                     stopped.stagingPath + "/locked/deeper", stopped.stagingPath + "/locked"] {
            chmod(path, 0o555)
        }
        Self.chownTree(scratch.allowed, to: 65534)

        // As user 65534, on this thread only, with no suspension until root again.
        _ = Self.setfsuid(65534)
        let moved = Result { try merging.moveIntoPlace() }
        let discarded = stopped.discard()
        _ = Self.setfsuid(0)

        #expect((try? moved.get())?.isEmpty == true, "\(moved)")
        #expect(discarded.isEmpty, "\(discarded)")
        #expect(scratch.entries(target) == ["fresh", "ro"])
        #expect(scratch.entries(target + "/ro") == ["new.txt", "old.txt"])
        #expect(FileManager.default.fileExists(atPath: target + "/fresh/inner/f.txt"))
        #expect(Self.mode(target + "/ro") == 0o555 && Self.mode(target + "/fresh") == 0o555 && Self.mode(target + "/fresh/inner") == 0o555)
    }

    @Test func aStagingDirectoryThatCannotBeRemovedIsNamedInAWarning() throws {
        guard geteuid() == 0 else { return }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.allowed + "/t"
        let staging = try RestoreStaging.prepare(target: target, scope: .allowedTargets, allowedTargets: [scratch.allowed])
        try scratch.write(staging.driverTarget + "/theirs/f.txt")
        // A directory the daemon's user does not own and may not write: its entry stays.
        Self.chownTree(scratch.allowed, to: 65534)
        lchown(staging.stagingPath + "/theirs", 0, 0)
        chmod(staging.stagingPath + "/theirs", 0o555)
        _ = Self.setfsuid(65534)
        let warnings = staging.discard()
        _ = Self.setfsuid(0)
        #expect(warnings.count == 1 && warnings.first?.contains(staging.stagingPath + "/theirs/f.txt") == true, "\(warnings)")
    }

    @Test func aWatchIgnoresEveryDirectoryTheRestoreCreates() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        #expect(RestoreStaging.outermostCreated(scratch.allowed + "/new/deeper/t") == scratch.allowed + "/new")
        #expect(RestoreStaging.outermostCreated(scratch.allowed) == scratch.allowed)
        #expect(RestoreStaging.outermostCreated("/") == "/")
    }
}
