import Foundation
import HenDrivers
import HenTestSupport
import Logging
import Testing
@testable import HenEngine

/// How many times a job runs restic, counted by a wrapper script configured as `executables.restic` that
/// writes each command's name to a file before it runs the real restic.
@Suite struct ResticRunCountTests {
    /// The wrapper and its log of command names.
    struct CountingRestic {
        let script: String
        let log: String

        init(root: String) throws {
            script = root + "/restic-counting"
            log = root + "/restic-calls"
            let text = "#!/bin/sh\necho \"$1\" >> '\(log)'\nexec '\(Restic.path)' \"$@\"\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: script))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        }

        /// The commands run so far (`version` left out when `withVersion` is false).
        func calls(withVersion: Bool = false) -> [String] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init).filter { withVersion || $0 != "version" }
        }

        func reset() throws {
            try Data().write(to: URL(fileURLWithPath: log))
        }
    }

    static func engine(_ fixture: ResticSnapshotFixture, _ configuration: Configuration, metrics: WatchMetricsTests.RecordedMetrics? = nil) throws -> Engine {
        Engine(configuration: configuration, registry: .standard, store: try JobStore(dataDirectory: configuration.dataDirectory), logger: Logger(label: "hen.test"), metrics: metrics)
    }

    @Test func aBackupOfAnExistingRepositoryRunsResticOnceAndTheCachedListHasItsSnapshot() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let restic = try CountingRestic(root: fixture.root)
        var configuration = fixture.configuration
        configuration.executables["restic"] = restic.script
        configuration.backups[0].retention = RetentionPolicy(keepLast: 1)
        let metrics = WatchMetricsTests.RecordedMetrics()
        let engine = try Self.engine(fixture, configuration, metrics: metrics)
        // As a daemon does before its first job: the version read at start, the list read once (by the
        // first snapshot count or a look at the snapshots).
        let (_, failures) = await configuration.verifyDriverPrograms(registry: .standard, logger: Logger(label: "hen.test"))
        #expect(failures.isEmpty)
        let before = try await engine.snapshots().items
        #expect(before.count == 1)
        try restic.reset()

        let record = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(record.state == .succeeded, "\(record.error ?? "")")
        #expect(record.steps.map(\.id) == ["backup:local"])
        // Its parent (the fixture's snapshot of the backup) was made by restic itself, not by a Hen job that
        // recorded how many files it held: its changes are counted by restic diff (which the driver runs after
        // confirming both ids among this host's snapshots).
        #expect(restic.calls(withVersion: true) == ["backup", "snapshots", "diff"])
        let id = try #require(record.results.first?.snapshotID)
        #expect(id.count == 64)
        #expect(record.results.first?.parentSnapshotID == before[0].snapshot.id)
        #expect(record.results.first?.filesAdded == 0 && record.results.first?.filesRemoved == 0 && record.results.first?.filesModified == 0)
        #expect(metrics.value("hen_repository_snapshots", [("repository", "local")]) == 2)

        // The list through the engine has the new snapshot, without running restic, with the fields restic
        // itself lists.
        let listed = try await engine.snapshots().items
        #expect(restic.calls(withVersion: true) == ["backup", "snapshots", "diff"])
        #expect(listed.count == 2)
        let cached = try #require(listed.first?.snapshot)
        let line = try #require(try await fixture.restic(["snapshots", "--json", id]).first)
        let real = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]])?.first)
        #expect(cached.id == id && real["id"] as? String == id)
        #expect(cached.host == "testhost" && real["hostname"] as? String == "testhost")
        #expect(cached.tags == ["backup=documents", "job=\(record.id)"] && real["tags"] as? [String] == cached.tags)
        #expect(cached.paths == [fixture.source] && real["paths"] as? [String] == cached.paths)
        #expect(cached.parent == before[0].snapshot.id && real["parent"] as? String == cached.parent)
        let realTime = try #require((real["time"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse($0) })
        #expect(cached.time == realTime)
        #expect(cached.backup == "documents" && cached.jobID == record.id)

        // A second backup, against the first (which a Hen job made): one run, and its changes against its
        // parent come from restic's summary and the first job's recorded file count.
        try restic.reset()
        let second = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(second.state == .succeeded)
        #expect(restic.calls(withVersion: true) == ["backup"])
        let secondResult = try #require(second.results.first)
        #expect(secondResult.parentSnapshotID == id)
        #expect(secondResult.filesAdded == 0 && secondResult.filesRemoved == 0 && secondResult.filesModified == 0)

        // One file removed, one changed, two added: still one run, and the same counts as restic diff's.
        try FileManager.default.removeItem(atPath: fixture.source + "/a.txt")
        try Data("deeper than before\n".utf8).write(to: URL(fileURLWithPath: fixture.source + "/dir/sub/c.txt"))
        try Data("new\n".utf8).write(to: URL(fileURLWithPath: fixture.source + "/new.txt"))
        try Data("new too\n".utf8).write(to: URL(fileURLWithPath: fixture.source + "/dir/new.txt"))
        let third = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(third.state == .succeeded)
        #expect(restic.calls(withVersion: true) == ["backup", "backup"])
        let thirdResult = try #require(third.results.first)
        #expect(thirdResult.parentSnapshotID == secondResult.snapshotID)
        #expect(thirdResult.filesAdded == 2 && thirdResult.filesRemoved == 1 && thirdResult.filesModified == 1)
        let diffLines = try await fixture.restic(["diff", "--json", try #require(secondResult.snapshotID), try #require(thirdResult.snapshotID)])
        let statistics = try #require(diffLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.first { $0["message_type"] as? String == "statistics" })
        #expect((statistics["added"] as? [String: Any])?["files"] as? Int == thirdResult.filesAdded)
        #expect((statistics["removed"] as? [String: Any])?["files"] as? Int == thirdResult.filesRemoved)
        #expect(statistics["changed_files"] as? Int == thirdResult.filesModified)

        // A prune: one run, and the cached list follows what it removed.
        try restic.reset()
        let prune = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .api)).id)
        #expect(prune.state == .succeeded, "\(prune.error ?? "")")
        #expect(restic.calls(withVersion: true) == ["forget"])
        let kept = try await engine.snapshots().items.map(\.snapshot.id)
        #expect(kept == [try #require(third.results.first?.snapshotID)])
        #expect(metrics.value("hen_repository_snapshots", [("repository", "local")]) == 1)

        // A restore of a snapshot the engine has indexed runs restic restore alone.
        _ = try await engine.directory(repository: "local", snapshot: kept[0])
        try restic.reset()
        let restore = try await engine.waitForCompletion(jobID: engine.restore(repository: "local", snapshot: kept[0], paths: [fixture.source + "/dir"], target: fixture.restores + "/one").id)
        #expect(restore.state == .succeeded, "\(restore.error ?? "")")
        #expect(restic.calls(withVersion: true) == ["restore"])
        #expect(FileManager.default.fileExists(atPath: fixture.restores + "/one" + fixture.source + "/dir/b.bin"))
        #expect(!FileManager.default.fileExists(atPath: fixture.restores + "/one" + fixture.source + "/a.txt"))
    }

    /// A first backup into an empty repository made outside Hen, with a new data directory (the cache has
    /// never listed it): restic sees its snapshot alone in `snapshots/`, so no listing follows the backup,
    /// and the next backup finds its parent in the cache.
    @Test func aFirstBackupIntoAnEmptyRepositoryRunsResticOnceWithoutListingIt() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        let restic = try CountingRestic(root: fixture.root)
        var configuration = fixture.configuration
        configuration.executables["restic"] = restic.script
        let metrics = WatchMetricsTests.RecordedMetrics()
        let engine = try Self.engine(fixture, configuration, metrics: metrics)

        let first = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(first.state == .succeeded, "\(first.error ?? "")")
        #expect(restic.calls() == ["backup"])
        let id = try #require(first.results.first?.snapshotID)
        #expect(id.count == 64)
        #expect(first.results.first?.parentSnapshotID == nil && first.results.first?.filesRemoved == nil)
        #expect(metrics.value("hen_repository_snapshots", [("repository", "local")]) == 1)
        // The cached list is complete: listing it runs nothing.
        #expect(try await engine.snapshots().items.map(\.snapshot.id) == [id])
        #expect(restic.calls() == ["backup"])

        try restic.reset()
        let second = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(second.state == .succeeded)
        #expect(restic.calls() == ["backup"])
        #expect(second.results.first?.parentSnapshotID == id)
        #expect(second.results.first?.filesAdded == 0 && second.results.first?.filesRemoved == 0)

        // A download of an indexed snapshot from the cached list runs restic dump alone (no restic snapshots
        // to confirm the id first).
        _ = try await engine.directory(repository: "local", snapshot: id)
        try restic.reset()
        let download = try await engine.download(repository: "local", snapshot: id, path: fixture.source + "/dir")
        var bytes = 0
        for try await chunk in download.bytes { bytes += chunk.count }
        #expect(download.kind == .tar && bytes > 300_000)
        #expect(restic.calls() == ["dump"])

        // With other snapshots in the repository (the two above) and another new data directory, the backup
        // is not alone: the list is read to find its parent, whose job this store has no record of (a diff).
        var elsewhere = configuration
        elsewhere.dataDirectory = fixture.root + "/data-elsewhere"
        let again = try Self.engine(fixture, elsewhere)
        try restic.reset()
        let third = try await again.waitForCompletion(jobID: again.backup("documents", trigger: .cli).id)
        #expect(third.state == .succeeded, "\(third.error ?? "")")
        #expect(Array(restic.calls().prefix(2)) == ["backup", "snapshots"] && restic.calls().last == "diff")
        #expect(third.results.first?.parentSnapshotID == second.results.first?.snapshotID)
    }

    @Test func aParentForgottenOutsideHenIsReplacedByTheListedOneAndStillCountedWithoutADiff() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        let restic = try CountingRestic(root: fixture.root)
        var configuration = fixture.configuration
        configuration.executables["restic"] = restic.script
        let engine = try Self.engine(fixture, configuration)
        #expect(try await engine.snapshots().items.isEmpty)
        let first = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        let second = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(first.state == .succeeded && second.state == .succeeded)
        let firstID = try #require(first.results.first?.snapshotID)
        let secondID = try #require(second.results.first?.snapshotID)
        #expect(second.results.first?.parentSnapshotID == firstID)

        // Someone forgets the newest snapshot with restic itself: the cache still names it as the parent.
        try await fixture.restic(["forget", secondID])
        try FileManager.default.removeItem(atPath: fixture.source + "/dir/sub/c.txt")
        try restic.reset()
        let third = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(third.state == .succeeded, "\(third.error ?? "")")
        // restic refused the gone parent, backed up against its own (the first), and the list read again says
        // so; the first job recorded its file count, so no diff runs.
        #expect(restic.calls() == ["backup", "backup", "snapshots"])
        let result = try #require(third.results.first)
        #expect(result.parentSnapshotID == firstID)
        #expect(result.filesAdded == 0 && result.filesRemoved == 1 && result.filesModified == 0)
        #expect(third.log.contains { $0.message.contains("no longer in repository local") })
        #expect(try await engine.snapshots().items.map(\.snapshot.id) == [try #require(result.snapshotID), firstID])
    }

    @Test func aMissingRepositoryIsCreatedWhenResticSaysSoAndOtherwiseTheJobSaysWhy() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        let restic = try CountingRestic(root: fixture.root)
        var configuration = fixture.configuration
        configuration.executables["restic"] = restic.script
        configuration.repositories["local"]?.location = fixture.root + "/new-repo"

        let engine = try Self.engine(fixture, configuration)
        let created = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        #expect(created.state == .succeeded, "\(created.error ?? "")")
        #expect(created.steps.map(\.id) == ["backup:local", "init:local"])
        #expect(created.steps.allSatisfy { $0.state == .succeeded })
        // The backup said the repository is missing, the init step created it, and the backup ran once more.
        #expect(restic.calls() == ["backup", "cat", "init", "backup"])
        #expect(created.results.first?.snapshotID?.count == 64)
        #expect(try await engine.snapshots().items.map(\.snapshot.id) == [created.results.first?.snapshotID])

        var refusing = configuration
        refusing.repositories["local"]?.location = fixture.root + "/never-created"
        refusing.repositories["local"]?.autoInit = false
        refusing.dataDirectory = fixture.root + "/data-refusing"
        try restic.reset()
        let refusingEngine = try Self.engine(fixture, refusing)
        let refused = try await refusingEngine.waitForCompletion(jobID: refusingEngine.backup("documents", trigger: .cli).id)
        #expect(refused.state == .failed)
        #expect(refused.error == "Repository \"local\" does not exist and auto_init is false: set auto_init: true to let Hen create it, or create it yourself with the restic tool.")
        #expect(refused.steps.map(\.id) == ["backup:local"])
        #expect(refused.steps.first?.state == .failed)
        #expect(restic.calls() == ["backup"])
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/never-created"))
    }
}
