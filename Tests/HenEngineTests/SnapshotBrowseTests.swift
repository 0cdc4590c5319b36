import Foundation
import HenDrivers
import HenProcess
import Testing
@testable import HenEngine

/// Browsing with the real restic: the tree index, pagination, downloads.
@Suite struct SnapshotBrowseTests {
    @Test func firstBrowseIndexesTheTreeOnceAndLaterPagesNeedNoRestic() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let engine = try fixture.makeEngine()
        let list = try await engine.snapshots()
        #expect(list.items.count == 1)
        #expect(list.nextCursor == nil)
        let id = try #require(list.items.first?.snapshot.id)
        #expect(fixture.counter.count("list") == 0)

        let top = try await engine.directory(repository: "local", snapshot: id, path: "/")
        #expect(top.items.map(\.name) == [String(fixture.root.split(separator: "/")[0])])
        #expect(fixture.counter.count("list") == 1)

        let source = try await engine.directory(repository: "local", snapshot: String(id.prefix(8)), path: fixture.source + "/")
        #expect(source.items.map(\.name) == ["a.txt", "dir", "link", "many"])
        #expect(source.items.map(\.kind) == [.file, .directory, .symlink, .directory])
        #expect(source.items[0].size == 15)
        // restic 0.14's `ls --json` carries no link target, so none is asserted here.

        var names: [String] = []
        var pages = 0
        var cursor: String?
        repeat {
            let page = try await engine.directory(repository: "local", snapshot: id, path: fixture.source + "/many", limit: 100, cursor: cursor)
            names += page.items.map(\.name)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil
        #expect(pages == 3)
        #expect(names == (0..<250).map { String(format: "f%03d", $0) })
        #expect(fixture.counter.count("list") == 1)
        #expect(fixture.counter.count("snapshots") == 1)

        // A restarted engine on the same data_dir with restic gone answers from the cache and the index alone.
        var offline = fixture.configuration
        offline.executables["restic"] = fixture.root + "/no-such-restic"
        let restarted = try fixture.makeEngine(offline)
        let again = try await restarted.directory(repository: "local", snapshot: id, path: fixture.source + "/dir")
        #expect(again.items.map(\.name) == ["b.bin", "sub"])
        #expect(again.items.first?.size == 300_000)
        #expect(fixture.counter.count("list") == 1)
        #expect(fixture.counter.count("snapshots") == 1)
    }

    @Test func directoryRequestsTheClientGotWrong() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let engine = try fixture.makeEngine()
        let id = try #require(try await engine.snapshots().items.first?.snapshot.id)
        func code(_ body: () async throws -> Void) async -> EngineError.Code? {
            do { try await body(); return nil } catch let error as EngineError { return error.code } catch { return EngineError.Code(rawValue: "other: \(error)") }
        }
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: id, path: fixture.source + "/nothing") } == .notFound)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: id, path: fixture.source + "/a.txt") } == .invalidRequest)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: id, path: fixture.source + "/../etc") } == .invalidRequest)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: id, path: "relative") } == .invalidRequest)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: id, limit: 0) } == .invalidRequest)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: id, cursor: "not a cursor!") } == .badRequest)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: "deadbeef") } == .notFound)
        #expect(await code { _ = try await engine.directory(repository: "nowhere", snapshot: id) } == .notFound)
        #expect(await code { _ = try await engine.snapshots(backup: "unknown") } == .notFound)
    }

    @Test func downloadsAFileAndADirectoryAsTar() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let engine = try fixture.makeEngine()
        let id = try #require(try await engine.snapshots().items.first?.snapshot.id)

        let file = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/dir/b.bin")
        #expect(file.kind == .file)
        #expect(file.fileName == "b.bin")
        #expect(file.size == 300_000)
        #expect(try await collect(file.bytes) == Array(ResticSnapshotFixture.bigFile))

        let directory = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/dir")
        #expect(directory.kind == .tar)
        #expect(directory.fileName == "dir.tar")
        let tarPath = fixture.root + "/dir.tar"
        try Data(try await collect(directory.bytes)).write(to: URL(fileURLWithPath: tarPath))
        let prefix = String(fixture.source.dropFirst()) + "/dir/"
        let members = Set(try await tarMembers(tarPath).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        #expect(members == [prefix + "b.bin", prefix + "sub", prefix + "sub/c.txt"])

        await #expect(throws: EngineError.self) { _ = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/link") }
        await #expect(throws: EngineError.self) { _ = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/missing") }
        #expect(fixture.counter.count("list") == 1)
    }

    /// The first chunk is read before the download is answered: a snapshot forgotten outside Hen (still in
    /// the cached list) is a "not found" error before any byte, not a 200 cut short after its headers.
    @Test func aDownloadThatFailsBeforeItsFirstByteIsAnError() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let engine = try fixture.makeEngine()
        let id = try #require(try await engine.snapshots().items.first?.snapshot.id)
        // Indexed and cached; then forgotten behind Hen's back.
        _ = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/dir/b.bin")
        _ = try await fixture.restic(["forget", id])
        do {
            let download = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/dir")
            Issue.record("the download was answered: \(download.kind) \(download.fileName)")
        } catch let error as EngineError {
            #expect(error.code == .notFound, "\(error)")
        }
    }
}
