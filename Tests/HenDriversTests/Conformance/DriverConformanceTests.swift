import Foundation
import HenDrivers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every driver through the same operations, one named test per operation, each on a repository of its
/// own (``ConformanceRepository``). Append a fixture to `drivers` to run a new driver through them. An
/// operation a driver's capabilities leave out must answer `unsupported`, and the tests check that too.
@Suite(.serialized)
struct DriverConformanceTests {
    static let drivers: [any DriverFixture] = [TarFixture(), ResticFixture(), BorgFixture(), RsyncFixture()]
    static let fixtures = drivers.map { FixtureArgument($0) }

    /// Initialization is idempotent.
    @Test(arguments: fixtures)
    func initialize(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture, initialized: false)
        let driver = repository.driver
        #expect(try await driver.isInitialized() == false)
        #expect(try await driver.initialize() == .created)
        #expect(try await driver.isInitialized())
        #expect(try await driver.initialize() == .alreadyInitialized)
    }

    /// A backup makes a snapshot of every file but the excluded ones.
    @Test(arguments: fixtures)
    func backup(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let first = try await repository.backup(job: "1")
        #expect(!first.snapshotID.isEmpty)
        // At least every regular file (drivers may count links as files too).
        #expect(first.totalFilesProcessed >= UInt64(repository.tree.files.count))
        let names = try await repository.driver.list(snapshot: first.snapshotID, path: nil).collectAll().map { ($0.path as NSString).lastPathComponent }
        #expect(!names.isEmpty)
        #expect(ConformanceTree.excluded.allSatisfy { excluded in !names.contains((excluded as NSString).lastPathComponent) })
    }

    /// Snapshots: oldest first, filtered by tags, confined to the driver's host.
    @Test(arguments: fixtures)
    func snapshots(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let driver = repository.driver
        let first = try await repository.backup(job: "1")
        let second = try await repository.backup(job: "2")
        let foreign = try await repository.foreignBackup()
        let mine = try await driver.snapshots(SnapshotFilter(tags: ["backup=x"])).collectAll()
        #expect(mine.map(\.id) == [first.snapshotID, second.snapshotID])
        #expect(mine.allSatisfy { $0.host == "host-a" && $0.tags.contains("backup=x") })
        #expect(mine.first?.paths == [repository.tree.root.path])
        #expect(mine.first?.jobID == "1")
        #expect(try await driver.snapshots(SnapshotFilter(tags: ["job=1"])).collectAll().map(\.id) == [first.snapshotID])
        #expect(try await driver.snapshots(SnapshotFilter(tags: ["backup=x", "job=2"])).collectAll().map(\.id) == [second.snapshotID])
        #expect(try await driver.snapshots(SnapshotFilter(tags: ["backup=nope"])).collectAll().isEmpty)
        #expect(try await repository.other.snapshots(SnapshotFilter()).collectAll().map(\.id) == [foreign.snapshotID])
    }

    /// list: every node below the root, with kinds, sizes, modes and times; below a path, that subtree.
    @Test(arguments: fixtures)
    func list(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let tree = repository.tree
        let first = try await repository.backup(job: "1")
        let byRelative = try await repository.nodes(first.snapshotID)
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
                if argument.fixture.reports.contains(.linkTargets) {
                    #expect(node.linkTarget == target, "\(item.relative)")
                } else {
                    #expect(node.linkTarget == nil || node.linkTarget == target, "\(item.relative)")
                }
            }
        }
        let nestedPath = try #require(byRelative["nested"]).path
        let nestedNodes = try await repository.driver.list(snapshot: first.snapshotID, path: nestedPath).collectAll()
        #expect(Set(nestedNodes.compactMap { ConformanceTree.relative($0.path) }) == Set(tree.items.map(\.relative).filter { $0.hasPrefix("nested") }))
    }

    /// restore: everything (bytes, modes and modification times in seconds come back), then one subtree.
    @Test(arguments: fixtures)
    func restore(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let tree = repository.tree
        let first = try await repository.backup(job: "1")
        let byRelative = try await repository.nodes(first.snapshotID)
        let target = repository.scratch.url.appendingPathComponent("restore")
        let restored = try await repository.driver.restore(RestoreRequest(snapshot: first.snapshotID, target: target.path))
        if argument.fixture.reports.contains(.restoredFileCounts) {
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
        let partial = repository.scratch.url.appendingPathComponent("partial")
        _ = try await repository.driver.restore(RestoreRequest(snapshot: first.snapshotID, target: partial.path, includes: [byRelative["nested"]!.path]))
        #expect(FileManager.default.fileExists(atPath: partial.path + byRelative["nested/deeper/notes.md"]!.path))
        #expect(!FileManager.default.fileExists(atPath: partial.path + byRelative["plain.txt"]!.path))
    }

    /// dump: a file's bytes; a directory's tar stream, which /usr/bin/tar extracts.
    @Test(arguments: fixtures)
    func dump(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let tree = repository.tree
        let driver = repository.driver
        let first = try await repository.backup(job: "1")
        let byRelative = try await repository.nodes(first.snapshotID)
        let dumped = try await driver.dump(snapshot: first.snapshotID, path: byRelative["nested/dir with space/data.bin"]!.path).collectAll()
        #expect(dumped.flatMap { $0 } == tree.contents("nested/dir with space/data.bin"))
        let tarFile = repository.scratch.url.appendingPathComponent("nested.tar")
        _ = FileManager.default.createFile(atPath: tarFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: tarFile)
        for try await chunk in driver.dump(snapshot: first.snapshotID, path: byRelative["nested"]!.path) { try handle.write(contentsOf: chunk) }
        try handle.close()
        let extracted = repository.scratch.url.appendingPathComponent("extracted")
        try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
        try ConformanceShell.run("/usr/bin/tar", ["-xf", tarFile.path, "-C", extracted.path])
        for item in tree.files where item.relative.hasPrefix("nested/") {
            let path = extracted.path + "/" + byRelative[item.relative]!.path.drop { $0 == "/" }
            #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == tree.contents(item.relative), "\(item.relative) in the dumped tar")
        }
    }

    /// diff: a driver with the capability lists the one file changed between two backups (by its snapshot
    /// path), nothing else, and knows no other host's snapshot; one without it says `unsupported`, and the
    /// engine compares trees.
    @Test(arguments: fixtures)
    func diff(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let driver = repository.driver
        let first = try await repository.backup(job: "1")
        let second = try await repository.backup(job: "2")
        guard driver.capabilities.contains(.diff) else {
            try await expectDriverError(.unsupported) { _ = try await driver.diff(from: first.snapshotID, to: second.snapshotID).collectAll() }
            return
        }
        let foreign = try await repository.foreignBackup()
        let byRelative = try await repository.nodes(first.snapshotID)
        let changes = try await driver.diff(from: first.snapshotID, to: second.snapshotID).collectAll()
        let changed = changes.compactMap { item -> SnapshotChange? in if case .change(let change) = item { return change } else { return nil } }
        #expect(changed.map(\.path) == [byRelative["nested/deeper/notes.md"]!.path])
        #expect(changed.map(\.kind) == [.modified])
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.diff(from: first.snapshotID, to: foreign.snapshotID).collectAll() }
    }

    /// Another host's snapshot does not exist for a driver: not listed, read, restored, dumped or forgotten.
    @Test(arguments: fixtures)
    func hostConfinement(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let driver = repository.driver
        let first = try await repository.backup(job: "1")
        let foreign = try await repository.foreignBackup()
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().map(\.id) == [first.snapshotID])
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.list(snapshot: foreign.snapshotID, path: nil).collectAll() }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.restore(RestoreRequest(snapshot: foreign.snapshotID, target: repository.scratch.url.appendingPathComponent("nope").path)) }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.dump(snapshot: foreign.snapshotID, path: repository.tree.root.path).collectAll() }
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.forget(ForgetRequest(selection: .snapshots([foreign.snapshotID]))) }
        try await expectDriverError(.snapshotNotFound) { _ = try await repository.other.list(snapshot: first.snapshotID, path: nil).collectAll() }
    }

    /// forget: by policy, the older snapshot of this host only; by id, that snapshot.
    @Test(arguments: fixtures)
    func forget(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let driver = repository.driver
        let first = try await repository.backup(job: "1")
        let second = try await repository.backup(job: "2")
        let foreign = try await repository.foreignBackup()
        let forgotten = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: ["backup=x"]))
        #expect(forgotten.removed.map { String($0.prefix(8)) } == [String(first.snapshotID.prefix(8))])
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().map(\.id) == [second.snapshotID])
        #expect(try await repository.other.snapshots(SnapshotFilter()).collectAll().map(\.id) == [foreign.snapshotID])
        let byID = try await driver.forget(ForgetRequest(selection: .snapshots([second.snapshotID])))
        #expect(byID.removed.map { String($0.prefix(8)) } == [String(second.snapshotID.prefix(8))])
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().isEmpty)
        #expect(try await repository.other.snapshots(SnapshotFilter()).collectAll().map(\.id) == [foreign.snapshotID])
    }

    /// check: sound (and reading all data back where the driver can, `unsupported` where it cannot), then
    /// damaged data is found.
    @Test(arguments: fixtures)
    func check(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let driver = repository.driver
        let first = try await repository.backup(job: "1")
        #expect(try await driver.check(CheckRequest()).ok)
        if driver.capabilities.contains(.readDataSubset) {
            #expect(try await driver.check(CheckRequest(readDataSubset: "100%")).ok)
        } else {
            try await expectDriverError(.unsupported) { _ = try await driver.check(CheckRequest(readDataSubset: "5%")) }
        }
        let corrupted = try argument.fixture.corruptData(repositoryDirectory: repository.directory, snapshotID: first.snapshotID)
        try #require(corrupted, "the \(argument.fixture.name) fixture found no data to damage")
        let damaged = try await driver.check(CheckRequest())
        #expect(!damaged.ok)
        #expect(!damaged.errors.isEmpty)
    }

    /// stats: the repository has a size once it holds a snapshot.
    @Test(arguments: fixtures)
    func stats(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        _ = try await repository.backup(job: "1")
        let stats = try await repository.driver.stats()
        #expect(try #require(stats.totalSize, "stats without a total size") > 0)
    }

    /// unlock where the driver keeps locks; `unsupported` where it says it keeps none.
    @Test(arguments: fixtures)
    func unlock(_ argument: FixtureArgument) async throws {
        let repository = try await ConformanceRepository(argument.fixture)
        let driver = repository.driver
        if driver.capabilities.contains(.locks) {
            try await driver.unlock()
            #expect(try await driver.isInitialized())
        } else {
            try await expectDriverError(.unsupported) { try await driver.unlock() }
        }
    }
}

/// One test's repository: a scratch directory (removed when the test ends) with the source tree, the
/// driver for host-a and one for host-b on the same repository, initialized unless asked otherwise.
/// The second backup (`job: "2"` and later) sees `nested/deeper/notes.md` changed.
final class ConformanceRepository {
    let scratch: ConformanceScratch
    let tree: ConformanceTree
    let directory: URL
    let driver: any BackupDriver
    let other: any BackupDriver
    private var backups = 0

    init(_ fixture: any DriverFixture, initialized: Bool = true) async throws {
        scratch = try ConformanceScratch("conformance-\(fixture.name)")
        directory = scratch.url.appendingPathComponent("repository")
        tree = try ConformanceTree(in: scratch.url.appendingPathComponent("source"))
        driver = try await fixture.makeDriver(repositoryDirectory: directory, hostname: "host-a")
        other = try await fixture.makeDriver(repositoryDirectory: directory, hostname: "host-b")
        if initialized { _ = try await driver.initialize() }
    }

    /// A backup of the tree by host-a, tagged `backup=x` and `job=<job>`.
    func backup(job: String) async throws -> BackupSummary {
        backups += 1
        if backups == 2 {
            try Data("changed between backups\n".utf8).write(to: tree.root.appendingPathComponent("nested/deeper/notes.md"))
        }
        return try await driver.backup(BackupRequest(paths: [tree.root.path], excludes: ConformanceTree.excludes, tags: ["backup=x", "job=\(job)"]))
    }

    /// A backup of the tree by host-b into the same repository.
    func foreignBackup() async throws -> BackupSummary {
        try await other.backup(BackupRequest(paths: [tree.root.path], tags: ["backup=x", "job=b"]))
    }

    /// A snapshot's nodes by their path below the tree's root.
    func nodes(_ snapshot: String) async throws -> [String: Node] {
        var byRelative: [String: Node] = [:]
        for node in try await driver.list(snapshot: snapshot, path: nil).collectAll() {
            if let relative = ConformanceTree.relative(node.path) { byRelative[relative] = node }
        }
        return byRelative
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
