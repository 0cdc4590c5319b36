import Foundation
import HenDrivers
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One scenario every driver must pass. Append a fixture to `fixtures` to run a new driver through it.
@Suite(.serialized)
struct DriverConformanceTests {
    static let fixtures: [any DriverFixture] = [TarFixture(), ResticFixture(), BorgFixture()]

    @Test(arguments: fixtures.map { FixtureArgument($0) })
    func scenario(_ argument: FixtureArgument) async throws {
        let fixture = argument.fixture
        let scratch = try ConformanceScratch("conformance-\(fixture.name)")
        let repositoryDirectory = scratch.url.appendingPathComponent("repository")
        let tree = try ConformanceTree(in: scratch.url.appendingPathComponent("source"))
        let driver = try await fixture.makeDriver(repositoryDirectory: repositoryDirectory, hostname: "host-a")
        let other = try await fixture.makeDriver(repositoryDirectory: repositoryDirectory, hostname: "host-b")

        // Initialization is idempotent.
        #expect(try await driver.isInitialized() == false)
        #expect(try await driver.initialize() == .created)
        #expect(try await driver.isInitialized())
        #expect(try await driver.initialize() == .alreadyInitialized)

        // Two backups by host-a, one by host-b.
        let request = BackupRequest(paths: [tree.root.path], excludes: ConformanceTree.excludes, tags: ["backup=x", "job=1"])
        let first = try await driver.backup(request)
        #expect(!first.snapshotID.isEmpty)
        // At least every regular file (drivers may count links as files too).
        #expect(first.totalFilesProcessed >= UInt64(tree.files.count))
        try Data("changed between backups\n".utf8).write(to: tree.root.appendingPathComponent("nested/deeper/notes.md"))
        let second = try await driver.backup(BackupRequest(paths: [tree.root.path], excludes: ConformanceTree.excludes, tags: ["backup=x", "job=2"]))
        let foreign = try await other.backup(BackupRequest(paths: [tree.root.path], tags: ["backup=x", "job=b"]))

        // Snapshots: oldest first, filtered by tags, confined to the driver's host.
        let mine = try await driver.snapshots(SnapshotFilter(tags: ["backup=x"])).collectAll()
        #expect(mine.map(\.id) == [first.snapshotID, second.snapshotID])
        #expect(mine.allSatisfy { $0.host == "host-a" && $0.tags.contains("backup=x") })
        #expect(mine.first?.paths == [tree.root.path])
        #expect(mine.first?.jobID == "1")
        #expect(try await driver.snapshots(SnapshotFilter(tags: ["job=1"])).collectAll().map(\.id) == [first.snapshotID])
        #expect(try await driver.snapshots(SnapshotFilter(tags: ["backup=x", "job=2"])).collectAll().map(\.id) == [second.snapshotID])
        #expect(try await driver.snapshots(SnapshotFilter(tags: ["backup=nope"])).collectAll().isEmpty)
        #expect(try await other.snapshots(SnapshotFilter()).collectAll().map(\.id) == [foreign.snapshotID])

        // list: every node below the root, with kinds, sizes and modes; excluded files absent.
        let nodes = try await driver.list(snapshot: first.snapshotID, path: nil).collectAll()
        var byRelative: [String: Node] = [:]
        for node in nodes {
            if let relative = ConformanceTree.relative(node.path) { byRelative[relative] = node }
        }
        #expect(Set(byRelative.keys) == Set([""] + tree.items.map(\.relative)))
        for item in tree.items {
            let node = try #require(byRelative[item.relative], "\(item.relative) is missing from the listing")
            switch item.kind {
            case .file(let bytes):
                #expect(node.kind == .file, "\(item.relative)")
                #expect(node.size == UInt64(bytes.count), "\(item.relative)")
                #expect(node.mode.map { $0 & 0o7777 } == item.mode, "\(item.relative)")
                #expect(node.modificationTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) } == item.mtime, "\(item.relative)")
            case .directory:
                #expect(node.kind == .directory, "\(item.relative)")
                #expect(node.mode.map { $0 & 0o7777 } == item.mode, "\(item.relative)")
            case .symlink(let target):
                #expect(node.kind == .symlink, "\(item.relative)")
                if fixture.reports.contains(.linkTargets) {
                    #expect(node.linkTarget == target, "\(item.relative)")
                } else {
                    #expect(node.linkTarget == nil || node.linkTarget == target, "\(item.relative)")
                }
            }
        }
        let nestedPath = try #require(byRelative["nested"]).path
        let nestedNodes = try await driver.list(snapshot: first.snapshotID, path: nestedPath).collectAll()
        #expect(Set(nestedNodes.compactMap { ConformanceTree.relative($0.path) }) == Set(tree.items.map(\.relative).filter { $0.hasPrefix("nested") }))

        // restore everything: bytes, modes and modification times (seconds) come back.
        let target = scratch.url.appendingPathComponent("restore")
        let restored = try await driver.restore(RestoreRequest(snapshot: first.snapshotID, target: target.path))
        if fixture.reports.contains(.restoredFileCounts) {
            #expect(restored.filesRestored == UInt64(tree.files.count))
        } else {
            #expect(restored.filesRestored == nil || restored.filesRestored == UInt64(tree.files.count))
        }
        for item in tree.items {
            let path = target.path + byRelative[item.relative]!.path
            var info = stat()
            #expect(lstat(path, &info) == 0, "\(item.relative) was not restored")
            switch item.kind {
            case .file(let bytes):
                #expect([UInt8](FileManager.default.contents(atPath: path) ?? Data()) == bytes, "\(item.relative)")
                #expect(UInt32(info.st_mode) & 0o7777 == item.mode, "\(item.relative)")
                #expect(Int64(info.st_mtim.tv_sec) == item.mtime, "\(item.relative)")
            case .directory:
                #expect(UInt32(info.st_mode) & 0o7777 == item.mode, "\(item.relative)")
                #expect(Int64(info.st_mtim.tv_sec) == item.mtime, "\(item.relative)")
            case .symlink(let linkTarget):
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path) == linkTarget)
            }
        }

        // restore with an include: only that subtree.
        let partial = scratch.url.appendingPathComponent("partial")
        _ = try await driver.restore(RestoreRequest(snapshot: first.snapshotID, target: partial.path, includes: [nestedPath]))
        #expect(FileManager.default.fileExists(atPath: partial.path + byRelative["nested/deeper/notes.md"]!.path))
        #expect(!FileManager.default.fileExists(atPath: partial.path + byRelative["plain.txt"]!.path))

        // dump a file: its bytes; a directory: a tar stream that /usr/bin/tar extracts.
        let dumped = try await driver.dump(snapshot: first.snapshotID, path: byRelative["nested/dir with space/data.bin"]!.path).collectAll()
        #expect(dumped.flatMap { $0 } == tree.contents("nested/dir with space/data.bin"))
        let tarFile = scratch.url.appendingPathComponent("nested.tar")
        _ = FileManager.default.createFile(atPath: tarFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: tarFile)
        for try await chunk in driver.dump(snapshot: first.snapshotID, path: nestedPath) { try handle.write(contentsOf: chunk) }
        try handle.close()
        let extracted = scratch.url.appendingPathComponent("extracted")
        try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
        try ConformanceShell.run("/usr/bin/tar", ["-xf", tarFile.path, "-C", extracted.path])
        for item in tree.files where item.relative.hasPrefix("nested/") {
            let path = extracted.path + "/" + byRelative[item.relative]!.path.drop { $0 == "/" }
            #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == tree.contents(item.relative), "\(item.relative) in the dumped tar")
        }

        // diff: a driver with the capability lists the one file changed between the two backups (by its
        // snapshot path), nothing else; one without it says `unsupported`, and the engine compares trees.
        if driver.capabilities.contains(.diff) {
            let changes = try await driver.diff(from: first.snapshotID, to: second.snapshotID).collectAll()
            let changed = changes.compactMap { item -> SnapshotChange? in if case .change(let change) = item { return change } else { return nil } }
            #expect(changed.map(\.path) == [byRelative["nested/deeper/notes.md"]!.path])
            #expect(changed.map(\.kind) == [.modified])
            try await expectDriverError(.snapshotNotFound) { _ = try await driver.diff(from: first.snapshotID, to: foreign.snapshotID).collectAll() }
        } else {
            try await expectDriverError(.unsupported) { _ = try await driver.diff(from: first.snapshotID, to: second.snapshotID).collectAll() }
        }

        // Another host's snapshot does not exist for this driver.
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.list(snapshot: foreign.snapshotID, path: nil).collectAll() }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.restore(RestoreRequest(snapshot: foreign.snapshotID, target: scratch.url.appendingPathComponent("nope").path)) }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.dump(snapshot: foreign.snapshotID, path: nestedPath).collectAll() }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.forget(ForgetRequest(selection: .snapshots([foreign.snapshotID]))) }
        try await expectDriverError(.snapshotNotFound) { _ = try await other.list(snapshot: first.snapshotID, path: nil).collectAll() }

        // forget by policy removes the older snapshot of this host only.
        let forgotten = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: ["backup=x"]))
        #expect(forgotten.removed.map { String($0.prefix(8)) } == [String(first.snapshotID.prefix(8))])
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().map(\.id) == [second.snapshotID])
        #expect(try await other.snapshots(SnapshotFilter()).collectAll().map(\.id) == [foreign.snapshotID])

        // check: sound, then damaged.
        #expect(try await driver.check(CheckRequest()).ok)
        if driver.capabilities.contains(.readDataSubset) {
            #expect(try await driver.check(CheckRequest(readDataSubset: "100%")).ok)
        }
        let stats = try await driver.stats()
        #expect(try #require(stats.totalSize, "stats without a total size") > 0)
        // unlock where the driver keeps locks; "unsupported" where it says it keeps none.
        if driver.capabilities.contains(.locks) {
            try await driver.unlock()
        } else {
            try await expectDriverError(.unsupported) { try await driver.unlock() }
        }
        if !driver.capabilities.contains(.readDataSubset) {
            try await expectDriverError(.unsupported) { _ = try await driver.check(CheckRequest(readDataSubset: "5%")) }
        }
        let corrupted = try fixture.corruptData(repositoryDirectory: repositoryDirectory, snapshotID: second.snapshotID)
        try #require(corrupted, "the \(fixture.name) fixture found no data to damage")
        let damaged = try await driver.check(CheckRequest())
        #expect(!damaged.ok)
        #expect(!damaged.errors.isEmpty)
    }
}

/// A fixture as a test argument, named after its driver in the test report.
struct FixtureArgument: Sendable, CustomTestStringConvertible {
    let fixture: any DriverFixture
    init(_ fixture: any DriverFixture) { self.fixture = fixture }
    var testDescription: String { fixture.name }
}

func expectDriverError(_ code: DriverError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async throws {
    do {
        try await body()
        Issue.record("expected a DriverError \(code), got success", sourceLocation: sourceLocation)
    } catch let error as DriverError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    }
}
