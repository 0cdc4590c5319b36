import Foundation
import HenDrivers
import HenEngineTestSupport
import HenHooks
import HenProcess
import HenTestSupport
import Logging
import Testing
@testable import HenEngine
#if canImport(Glibc)
import Glibc
#endif

/// Restore drills, "what changed" and the mass-deletion alarm, with real restic, tar and borg repositories
/// (borg through its plugin, hen-plugin-borg, built beside the tests).
@Suite struct RecoveryConfidenceTests {
    enum Driver: String, CaseIterable, CustomStringConvertible {
        case restic, tar, borg
        var description: String { rawValue }
    }

    /// A source of `count` small files (`f00`…, each with distinct content), one backup "documents" on one
    /// repository of `driver`, and an engine on it that runs real hooks.
    struct Fixture {
        let root: String
        var configuration: Configuration
        var source: String { root + "/src" }

        init(driver: Driver, files count: Int = 10, alarm: Configuration.Backup.Alarm? = nil, drill: Configuration.Backup.Drill? = nil, hooks: Configuration.Backup.Hooks = .init()) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-confidence-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: root + "/src", withIntermediateDirectories: true)
            for index in 0..<count {
                try Self.write("content of file number \(index), unique\n", to: root + "/src/" + Self.name(index))
            }
            var repository = Configuration.Repository(name: "repo", driver: driver.rawValue, location: root + "/repo", password: Secret("confidence password"))
            repository.autoInit = true
            configuration = .fixture(
                root: root,
                executables: ["restic": Restic.path],
                repositories: ["repo": repository],
                backups: [Configuration.Backup(
                    name: "documents", paths: [root + "/src"], repositories: ["repo"],
                    retention: RetentionPolicy(keepLast: 1), hooks: hooks, alarm: alarm, drill: drill
                )]
            )
        }

        static func name(_ index: Int) -> String { String(format: "f%02d", index) }

        static func write(_ text: String, to path: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }

        func makeEngine() async throws -> Engine {
            // The plugins found beside the test binary, as the daemon finds them beside its own.
            let (registry, problems) = await DriverRegistry.standard.addingPlugins(in: PluginDiscovery.standardDirectories())
            for (name, repository) in configuration.repositories where !registry.contains(repository.driver) {
                throw FixtureFailure(message: "Repository \(name): driver \(repository.driver) not found (\(problems[repository.driver] ?? "no hen-plugin-\(repository.driver) beside the tests: run swift build")).")
            }
            return try await Engine.open(configuration: configuration, registry: registry, logger: Logger(label: "hen.test"))
        }

        func run(_ operation: JobOperation, on engine: Engine) async throws -> JobRecord {
            let queued = try await engine.submit(JobRequest(operation: operation, trigger: .cli))
            return try await engine.waitForCompletion(jobID: queued.id)
        }

        func close() {
            // Restored read-only directories, if any, do not stop the clean-up.
            RestoreDrill.remove(root)
        }
    }

    // MARK: What changed

    @Test(arguments: Driver.allCases)
    func diffListsExactlyTheFilesAddedRemovedAndChanged(driver: Driver) async throws {
        let fixture = try Fixture(driver: driver)
        defer { fixture.close() }
        let engine = try await fixture.makeEngine()
        let first = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(first.state == .succeeded, "\(first.error ?? "")")
        // The first snapshot has no parent: nothing is counted.
        #expect(first.results.first?.parentSnapshotID == nil)

        try FileManager.default.removeItem(atPath: fixture.source + "/f01")
        try FileManager.default.removeItem(atPath: fixture.source + "/f02")
        try Fixture.write("changed, and longer than it was before\n", to: fixture.source + "/f03")
        try Fixture.write("a new file\n", to: fixture.source + "/new.txt")
        try FileManager.default.createDirectory(atPath: fixture.source + "/newdir", withIntermediateDirectories: true)
        try Fixture.write("inside\n", to: fixture.source + "/newdir/inner.txt")
        let second = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(second.state == .succeeded, "\(second.error ?? "")")
        let result = try #require(second.results.first)
        #expect(result.filesAdded == 2)
        #expect(result.filesRemoved == 2)
        #expect(result.filesModified == 1)
        let firstID = try #require(first.results.first?.snapshotID)
        #expect(result.parentSnapshotID?.hasPrefix(firstID) == true)

        let newest = try #require(result.snapshotID)
        let diff = try await engine.snapshotDiff(repository: "repo", snapshot: newest)
        #expect(diff.against.snapshot.id.hasPrefix(firstID))
        #expect(diff.counts.added == 2 && diff.counts.removed == 2 && diff.counts.modified == 1)
        let source = fixture.source
        let files = diff.items.filter { $0.nodeKind != .directory }
        #expect(Set(files.filter { $0.kind == .added }.map(\.path)) == [source + "/new.txt", source + "/newdir/inner.txt"])
        #expect(Set(files.filter { $0.kind == .removed }.map(\.path)) == [source + "/f01", source + "/f02"])
        #expect(files.filter { $0.kind == .modified }.map(\.path) == [source + "/f03"])
        #expect(diff.items.contains { $0.path == source + "/newdir" && $0.kind == .added })
        // borg and tar have no diff of their own: Hen compares the two listings.
        #expect(diff.counts.method == (driver == .restic ? .driver : .trees))

        // Pages of one path each, then only removals; against an explicit id the same diff.
        var paths: [String] = []
        var cursor: String?
        repeat {
            let page = try await engine.snapshotDiff(repository: "repo", snapshot: newest, limit: 1, cursor: cursor)
            paths += page.items.map(\.path)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(paths == diff.items.map(\.path))
        #expect(paths == paths.sorted())
        let removed = try await engine.snapshotDiff(repository: "repo", snapshot: newest, against: String(firstID.prefix(8)), kind: .removed)
        #expect(removed.items.map(\.path) == [source + "/f01", source + "/f02"])
        await #expect(throws: EngineError.self) { _ = try await engine.snapshotDiff(repository: "repo", snapshot: firstID) }
    }

    // MARK: The mass-deletion alarm

    @Test(arguments: Driver.allCases)
    func deletingFortyPercentRaisesTheAlarmHoldsThePruneUntilAcknowledged(driver: Driver) async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("hen-alarm-hook-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let hook = HookDefinition(action: .command(CommandHook(invocation: .shell("printf '%s|%s' \"$HEN_STATE\" \"$HEN_ERROR\" > \(marker)"), timeout: 60)))
        let fixture = try Fixture(driver: driver, alarm: .init(removedOver: .percent(30), protect: true), hooks: .init(alarm: [hook]))
        defer { fixture.close() }
        let engine = try await fixture.makeEngine()
        let first = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(first.state == .succeeded, "\(first.error ?? "")")
        #expect(!FileManager.default.fileExists(atPath: marker))

        for index in 0..<4 { try FileManager.default.removeItem(atPath: fixture.source + "/" + Fixture.name(index)) }
        let second = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(second.state == .warning)
        let sentence = try #require(second.warnings.first { $0.contains("Mass-deletion alarm") })
        #expect(sentence.contains("4 of") && sentence.contains("10 files") && sentence.contains("(40%)") && sentence.contains("30%"))
        #expect(second.results.first?.alarm == true)
        let hookOutput = try String(contentsOfFile: marker, encoding: .utf8)
        #expect(hookOutput.hasPrefix("warning|Mass-deletion alarm for backup documents"))
        #expect(second.steps.contains { $0.id.hasPrefix("hook:alarm") && $0.state == .succeeded })
        let alarm = try #require(try await engine.alarm(backup: "documents"))
        #expect(alarm.isActive && alarm.removed == 4 && alarm.parentFiles == 10)
        let health = await engine.health(strict: true)
        #expect(health.problems.contains { $0.kind == "backup_alarm" && $0.subject == "documents" })

        // The prune is held back: both snapshots stay, although keep_last is 1.
        let held = try await fixture.run(.prune(backup: "documents"), on: engine)
        #expect(held.state == .warning)
        #expect(held.steps.contains { $0.id == "prune:repo" && $0.state == .skipped })
        #expect(held.warnings.contains { $0.contains("held back") && $0.contains("hen-backup alarm ack documents") })
        #expect(try await engine.snapshots(repository: "repo", refresh: true).items.count == 2)

        // A restarted engine on the same data_dir holds it back too.
        await engine.close()
        let restarted = try await fixture.makeEngine()
        let stillHeld = try await fixture.run(.prune(backup: "documents"), on: restarted)
        #expect(stillHeld.state == .warning)
        #expect(try await restarted.snapshots(repository: "repo", refresh: true).items.count == 2)

        let acknowledged = try await restarted.acknowledgeAlarm(backup: "documents")
        #expect(acknowledged.acknowledgedAt != nil)
        await #expect(throws: EngineError.self) { _ = try await restarted.acknowledgeAlarm(backup: "documents") }
        #expect(await restarted.health(strict: true).problems.allSatisfy { $0.kind != "backup_alarm" })
        let pruned = try await fixture.run(.prune(backup: "documents"), on: restarted)
        #expect(pruned.state == .succeeded, "\(pruned.error ?? "")")
        #expect(try await restarted.snapshots(repository: "repo", refresh: true).items.count == 1)
        await restarted.close()
    }

    @Test func fewerRemovalsThanTheThresholdRaiseNothing() async throws {
        let fixture = try Fixture(driver: .tar, alarm: .init(removedOver: .count(3), protect: true))
        defer { fixture.close() }
        let engine = try await fixture.makeEngine()
        _ = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        for index in 0..<3 { try FileManager.default.removeItem(atPath: fixture.source + "/" + Fixture.name(index)) }
        let second = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(second.state == .succeeded)
        #expect(second.results.first?.filesRemoved == 3)
        #expect(try await engine.alarm(backup: "documents") == nil)
    }

    // MARK: Restore drills

    @Test(arguments: Driver.allCases)
    func aDrillOverASampleMatchesAndTheNextFavoursFilesNotDrilled(driver: Driver) async throws {
        let fixture = try Fixture(driver: driver, files: 20, drill: .init(sample: .count(5)))
        defer { fixture.close() }
        let engine = try await fixture.makeEngine()
        let backup = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(backup.state == .succeeded, "\(backup.error ?? "")")

        let drill = try await fixture.run(.drill(backup: "documents"), on: engine)
        #expect(drill.state == .succeeded, "\(drill.error ?? "")")
        let result = try #require(drill.results.first?.drill)
        #expect(result.sampled == 5 && result.matched == 5 && result.differed == 0 && result.skipped == 0)
        let drilled = try await engine.store.drilledPaths(backup: "documents", repository: "repo", before: .distantFuture)
        #expect(drilled.count == 5)

        let second = try await fixture.run(.drill(backup: "documents"), on: engine)
        #expect(second.state == .succeeded)
        let drilledTwice = try await engine.store.drilledPaths(backup: "documents", repository: "repo", before: .distantFuture)
        #expect(drilledTwice.count == 10, "the second drill picks files the first did not")

        // The private directories are gone.
        let drills = RestoreDrill.drillsDirectory(dataDirectory: fixture.configuration.dataDirectory)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: drills)) ?? []).isEmpty)
        await engine.close()
    }

    @Test(arguments: Driver.allCases)
    func aSourceSwappedWithSameSizeAndTimeFailsTheDrillNamingIt(driver: Driver) async throws {
        let fixture = try Fixture(driver: driver, files: 6, drill: .init(sample: .percent(100)))
        defer { fixture.close() }
        let engine = try await fixture.makeEngine()
        let backup = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(backup.state == .succeeded, "\(backup.error ?? "")")

        // Same length, same modification time to the nanosecond, other bytes.
        let victim = fixture.source + "/f04"
        var before = stat()
        #expect(lstat(victim, &before) == 0)
        try Fixture.write("CONTENT OF FILE NUMBER 4, UNIQUE\n", to: victim)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, victim, &times, AT_SYMLINK_NOFOLLOW) == 0)
        // Another one changed openly: skipped.
        try Fixture.write("this one changed size\n", to: fixture.source + "/f05")

        let drill = try await fixture.run(.drill(backup: "documents"), on: engine)
        #expect(drill.state == .failed)
        #expect(drill.error?.contains(victim) == true, "\(drill.error ?? "")")
        let result = try #require(drill.results.first?.drill)
        #expect(result.sampled == 6 && result.matched == 4 && result.differed == 1 && result.skipped == 1)
        #expect(result.differedPaths == [victim])
        let health = await engine.health(strict: true)
        #expect(health.problems.contains { $0.kind == "drill_failed" && $0.subject == "documents" })
        await engine.close()
    }

    @Test func corruptedDataInATarRepositoryFailsTheDrillNamingThePath() async throws {
        let fixture = try Fixture(driver: .tar, files: 6, drill: .init(sample: .count(100)))
        defer { fixture.close() }
        let engine = try await fixture.makeEngine()
        let backup = try await fixture.run(.backup(backup: "documents", repositories: nil), on: engine)
        #expect(backup.state == .succeeded, "\(backup.error ?? "")")

        // Rewrite the archive with one file's bytes changed (same length), so that it still extracts.
        let snapshots = fixture.root + "/repo/snapshots"
        let archive = try #require(try FileManager.default.contentsOfDirectory(atPath: snapshots).first { $0.hasSuffix(".tar.gz") })
        let tarPath = fixture.root + "/plain.tar"
        try await shell("gzip -dc '\(snapshots)/\(archive)' > '\(tarPath)'")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tarPath)))
        let needle = Array("content of file number 2, unique".utf8)
        let offset = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        for index in 0..<7 { bytes[offset + index] = UInt8(ascii: "X") }
        try Data(bytes).write(to: URL(fileURLWithPath: tarPath))
        try await shell("gzip -nc '\(tarPath)' > '\(snapshots)/\(archive)'")

        let drill = try await fixture.run(.drill(backup: "documents"), on: engine)
        #expect(drill.state == .failed)
        #expect(drill.error?.contains(fixture.source + "/f02") == true, "\(drill.error ?? "")")
        #expect(drill.results.first?.drill?.matched == 5)
        await engine.close()
    }

    @Test func theSampleIsTheSameForTheSameJobAndFavoursFilesNotDrilled() {
        func sample(_ seed: String, drilled: Set<String> = []) -> [String] {
            var sample = DrillSample(seed: seed, size: 10, drilled: drilled)
            for index in 0..<1_000 { sample.offer(Node(path: "/data/file\(index)", kind: .file, size: 10)) }
            sample.offer(Node(path: "/data", kind: .directory))
            return sample.finish(maxBytes: nil).map(\.path)
        }
        let first = sample("job-1")
        #expect(first.count == 10)
        #expect(sample("job-1") == first)
        #expect(sample("job-2") != first)
        let next = sample("job-1", drilled: Set(first))
        #expect(Set(next).isDisjoint(with: first))
        var bounded = DrillSample(seed: "s", size: 10, drilled: [])
        for index in 0..<10 { bounded.offer(Node(path: "/f\(index)", kind: .file, size: 40)) }
        #expect(bounded.finish(maxBytes: 100).count == 2)
    }
}

/// Runs a shell command; throws when it fails.
private func shell(_ script: String) async throws {
    let result = try await ChildProcess.run(ChildProcessRequest(executable: "/bin/sh", arguments: ["-c", script])) { _ in }
    guard result.succeeded else { throw FixtureFailure(message: "sh -c \(script) failed: \(result.stderrTail.joined(separator: "\n"))") }
}
