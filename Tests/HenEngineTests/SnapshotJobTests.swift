import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// Restore targets, hostname confinement, forget and recovery mode, with the real restic.
@Suite struct SnapshotJobTests {
    @Test func restoresOnlyIntoAllowedTargets() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let files = FileManager.default
        try files.createDirectory(atPath: fixture.root + "/outside", withIntermediateDirectories: true)
        try files.createSymbolicLink(atPath: fixture.restores + "/escape", withDestinationPath: fixture.root + "/outside")
        let engine = try fixture.makeEngine()
        let id = try #require(try await engine.snapshots().items.first?.snapshot.id)

        let job = try await engine.restore(repository: "local", snapshot: String(id.prefix(8)), paths: [fixture.source + "/dir"], target: fixture.restores + "/one")
        #expect(job.request == .restore(repository: "local", snapshot: id, target: fixture.restores + "/one", includes: [fixture.source + "/dir"]))
        let done = try await engine.waitForCompletion(jobID: job.id)
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        let restored = try Data(contentsOf: URL(fileURLWithPath: fixture.restores + "/one" + fixture.source + "/dir/b.bin"))
        #expect(restored == ResticSnapshotFixture.bigFile)
        #expect(!files.fileExists(atPath: fixture.restores + "/one" + fixture.source + "/a.txt"))

        func refusal(_ target: String, paths: [String] = []) async -> EngineError? {
            do {
                _ = try await engine.restore(repository: "local", snapshot: id, paths: paths, target: target)
                return nil
            } catch {
                return error as? EngineError
            }
        }
        #expect(await refusal(fixture.restores + "/../outside")?.code == .invalidRequest)
        #expect(await refusal(fixture.restores + "/escape")?.message.contains("symbolic link") == true)
        #expect(await refusal(fixture.restores + "/escape/deeper")?.code == .invalidRequest)
        #expect(await refusal(fixture.root + "/outside")?.code == .invalidRequest)
        #expect(await refusal("relative/path")?.code == .invalidRequest)
        #expect(await refusal(fixture.restores + "/two", paths: [fixture.source + "/missing"])?.code == .notFound)
        #expect(await refusal(fixture.restores + "/two", paths: [fixture.source + "/../x"])?.code == .invalidRequest)
        // Nothing reached the link's destination.
        #expect(try files.contentsOfDirectory(atPath: fixture.root + "/outside").isEmpty)

        var closed = fixture.configuration
        closed.restore.allowedTargets = []
        closed.dataDirectory = fixture.root + "/data-closed"
        let noTargets = try fixture.makeEngine(closed)
        await #expect(throws: EngineError.self) { _ = try await noTargets.restore(repository: "local", snapshot: id, paths: [], target: fixture.restores + "/three") }
    }

    @Test func anotherHostsSnapshotIsNotFoundAnywhere() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot(host: "otherhost", paths: [fixture.source + "/dir"])
        try await fixture.snapshot()
        let foreign = try #require(try await fixture.restic(["snapshots", "--json", "--host", "otherhost"]).first.flatMap { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]])?.first?["id"] as? String
        })
        let engine = try fixture.makeEngine()
        let mine = try await engine.snapshots()
        #expect(mine.items.count == 1)
        #expect(mine.items.allSatisfy { $0.snapshot.host == "testhost" })

        func code(_ body: () async throws -> Void) async -> EngineError.Code? {
            do { try await body(); return nil } catch { return (error as? EngineError)?.code }
        }
        #expect(await code { _ = try await engine.snapshot(repository: "local", id: foreign) } == .notFound)
        #expect(await code { _ = try await engine.directory(repository: "local", snapshot: foreign) } == .notFound)
        #expect(await code { _ = try await engine.download(repository: "local", snapshot: foreign, path: fixture.source + "/dir/b.bin") } == .notFound)
        #expect(await code { _ = try await engine.forget(repository: "local", snapshot: foreign) } == .notFound)
        #expect(await code { _ = try await engine.restore(repository: "local", snapshot: foreign, paths: [], target: fixture.restores) } == .notFound)
        #expect(fixture.counter.count("list") == 0)
        #expect(fixture.counter.count("dump") == 0)
    }

    @Test func forgetIsAJobAndTheListFollowsIt() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        try await fixture.snapshot(paths: [fixture.source + "/dir"])
        try await fixture.snapshot(paths: [fixture.source + "/many"], tags: ["backup=other"])
        let engine = try fixture.makeEngine()

        let first = try await engine.snapshots(limit: 2)
        #expect(first.items.count == 2)
        let next: String = try #require(first.nextCursor)
        let second = try await engine.snapshots(limit: 2, cursor: next)
        #expect(second.items.count == 1)
        #expect(second.nextCursor == nil)
        let all = first.items + second.items
        #expect(all.map(\.snapshot.time) == all.map(\.snapshot.time).sorted(by: >))
        #expect(Set(all.map(\.snapshot.id)).count == 3)
        #expect(try await engine.snapshots(backup: "documents").items.count == 2)

        let victim = all[0].snapshot.id
        let job = try await engine.forget(repository: "local", snapshot: victim)
        #expect(job.request == .forget(repository: "local", snapshots: [victim]))
        let done = try await engine.waitForCompletion(jobID: job.id)
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        let after = try await engine.snapshots()
        #expect(after.items.map(\.snapshot.id) == Array(all.dropFirst()).map(\.snapshot.id))
        await #expect(throws: EngineError.self) { _ = try await engine.snapshot(repository: "local", id: victim) }
    }

    @Test func recoveryModeReadsAnotherHostAndNeverWrites() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot(host: "deadhost")
        try await fixture.snapshot()
        let before = try fixture.repositoryListing()
        var recovery = fixture.configuration
        recovery.mode = .recovery
        recovery.hostname = "deadhost"
        let engine = try fixture.makeEngine(recovery)

        let list = try await engine.snapshots()
        #expect(list.items.map(\.snapshot.host) == ["deadhost"])
        let id = try #require(list.items.first?.snapshot.id)
        let page = try await engine.directory(repository: "local", snapshot: id, path: fixture.source)
        #expect(page.items.map(\.name) == ["a.txt", "dir", "link", "many"])
        let file = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/a.txt")
        #expect(try await collect(file.bytes) == Array("hello snapshot\n".utf8))
        let restore = try await engine.restore(repository: "local", snapshot: id, paths: [fixture.source + "/a.txt"], target: fixture.restores + "/back")
        #expect(try await engine.waitForCompletion(jobID: restore.id).state == .succeeded)
        #expect(FileManager.default.fileExists(atPath: fixture.restores + "/back" + fixture.source + "/a.txt"))

        func code(_ body: () async throws -> Void) async -> EngineError.Code? {
            do { try await body(); return nil } catch { return (error as? EngineError)?.code }
        }
        #expect(await code { _ = try await engine.forget(repository: "local", snapshot: id) } == .readOnly)
        #expect(await code { _ = try await engine.submit(JobRequest(operation: .backup(backup: "documents", repositories: nil), trigger: .api)) } == .readOnly)
        #expect(await code { _ = try await engine.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .api)) } == .readOnly)
        #expect(await code { _ = try await engine.submit(JobRequest(operation: .unlock(repository: "local"), trigger: .api)) } == .readOnly)
        #expect(await code { _ = try await engine.submit(JobRequest(operation: .forget(repository: "local", snapshots: [id]), trigger: .api)) } == .readOnly)
        // A check only reads (restic check --no-lock), so it is allowed, and reads back data too.
        let check = try await engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: "100%"), trigger: .api))
        let checked = try await engine.waitForCompletion(jobID: check.id)
        #expect(checked.state == .succeeded, "\(checked.error ?? "") \(checked.log.map(\.message))")
        // restic ran with --no-lock: not one file of the repository was created, changed or removed.
        #expect(try fixture.repositoryListing() == before)
        #expect(fixture.counter.count("forget") == 0)
    }
}
