import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// The watcher against the real kernel, in temporary directories. Waits are bounded (a few seconds at
/// most) and end as soon as the expected event is seen; "nothing else happened" is proven with a
/// sentinel change made afterwards (one inotify queue is ordered).
@Suite(.timeLimit(.minutes(1))) struct WatchInotifyTests {
    func makeWatcher(_ scratch: WatchScratch, paths: [String]? = nil, excludes: [String] = [], calls: InotifyCalls = .system, log: WatchLogLines = WatchLogLines()) throws -> InotifyWatcher {
        InotifyWatcher(backup: "docs", paths: paths ?? [scratch.path], excludes: try ExcludeMatcher(patterns: excludes), logger: log.logger(), calls: calls)
    }

    @Test func seesCreatesWritesRenamesDeletesAndAttributes() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.write("existing.txt")
        try scratch.write("doomed.txt")
        let watcher = try makeWatcher(scratch)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }

        try scratch.write("new.txt")
        #expect(await changes.wait(for: scratch.file("new.txt")))
        try FileManager.default.moveItem(atPath: scratch.file("existing.txt"), toPath: scratch.file("renamed.txt"))
        #expect(await changes.wait(for: scratch.file("renamed.txt")))
        #expect(changes.paths.contains(scratch.file("existing.txt")))
        try FileManager.default.removeItem(atPath: scratch.file("doomed.txt"))
        #expect(await changes.wait(for: scratch.file("doomed.txt")))
        #expect(chmod(scratch.file("renamed.txt"), 0o600) == 0)
        #expect(await changes.wait { $0.last?.paths.contains(scratch.file("renamed.txt")) == true })
    }

    @Test func readingAndUnclosedWritesDoNotCount() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        // From a child: a close of ours could reach the watcher late and look like a change (see writeFromChild).
        try scratch.writeFromChild(["log.txt"], "start")
        let watcher = try makeWatcher(scratch)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }

        _ = try Data(contentsOf: URL(fileURLWithPath: scratch.file("log.txt")))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("log.txt")))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("more".utf8))
        try scratch.write("sentinel")
        #expect(await changes.wait(for: scratch.file("sentinel")))
        #expect(!changes.paths.contains(scratch.file("log.txt")), "opening, reading and writing without closing count as nothing")
        try handle.close()
        #expect(await changes.wait(for: scratch.file("log.txt")), "closing after a write counts")
    }

    @Test func filesInANewSubdirectoryAreSeen() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let watcher = try makeWatcher(scratch)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }
        #expect(watcher.watchCount == 1)

        // Created at once with the directories: some of it lands before their watches exist.
        try scratch.write("a/b/c/early.txt")
        #expect(await changes.wait(for: scratch.file("a/b/c/early.txt")))
        #expect(await eventually { watcher.watchCount == 4 })
        // Once watched, later changes deep inside are seen too.
        try scratch.write("a/b/c/late.txt")
        #expect(await changes.wait(for: scratch.file("a/b/c/late.txt")))
    }

    @Test func removedAndMovedAwayDirectoriesAreDropped() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let outside = try WatchScratch()
        defer { outside.remove() }
        try scratch.makeDirectory("gone/inner")
        try scratch.makeDirectory("moved")
        let watcher = try makeWatcher(scratch)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }
        #expect(watcher.watchCount == 4)

        try FileManager.default.removeItem(atPath: scratch.file("gone"))
        #expect(await changes.wait(for: scratch.file("gone")))
        #expect(await eventually { watcher.watchCount == 2 })

        try FileManager.default.moveItem(atPath: scratch.file("moved"), toPath: outside.file("moved"))
        #expect(await changes.wait(for: scratch.file("moved")))
        #expect(await eventually { watcher.watchCount == 1 })
        // What happens in the moved-away directory is not this backup's business any more.
        try outside.write("moved/after.txt")
        try scratch.write("sentinel")
        #expect(await changes.wait(for: scratch.file("sentinel")))
        #expect(!changes.paths.contains { $0.hasSuffix("after.txt") })
    }

    @Test func aRemovedRootIsWatchedAgainWhenItComesBack() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("root")
        let watcher = try makeWatcher(scratch, paths: [scratch.file("root")])
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }

        try FileManager.default.removeItem(atPath: scratch.file("root"))
        #expect(await changes.wait(for: scratch.file("root")))
        // Only the parent's watch (filtered to the root's name) is left.
        #expect(await eventually { watcher.watchCount == 1 })
        try scratch.write("root/back.txt")
        #expect(await eventually { watcher.watchCount == 2 })
        try scratch.write("root/after.txt")
        #expect(await changes.wait(for: scratch.file("root/after.txt")))
        try scratch.write("unrelated.txt")
        try scratch.write("root/sentinel.txt")
        #expect(await changes.wait(for: scratch.file("root/sentinel.txt")))
        #expect(!changes.paths.contains(scratch.file("unrelated.txt")))
    }

    @Test func excludedPathsChangeNothing() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("cache/deep")
        try scratch.makeDirectory("keep")
        let watcher = try makeWatcher(scratch, excludes: ["*.tmp", "cache"])
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }
        // The excluded directory and its subdirectory are not even watched.
        #expect(watcher.watchCount == 2)

        try scratch.write("draft.tmp")
        try scratch.write("keep/draft.tmp")
        try scratch.write("cache/entry")
        try scratch.write("new-cache/x.tmp")
        try scratch.makeDirectory("keep/cache/sub")
        try scratch.write("keep/sentinel.txt")
        #expect(await changes.wait(for: scratch.file("keep/sentinel.txt")))
        let seen = changes.paths
        #expect(!seen.contains { $0.hasSuffix(".tmp") || $0.contains("/cache") }, "\(seen)")
        #expect(seen.contains(scratch.file("new-cache")))
    }

    @Test func aFileIsWatchedThroughItsDirectory() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.write("dir/notes.txt")
        try scratch.write("dir/other.txt")
        let watcher = try makeWatcher(scratch, paths: [scratch.file("dir/notes.txt")])
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }
        #expect(watcher.watchCount == 1)

        try scratch.write("dir/other.txt", "changed")
        try scratch.write("dir/notes.txt", "changed")
        #expect(await changes.wait(for: scratch.file("dir/notes.txt")))
        #expect(!changes.paths.contains(scratch.file("dir/other.txt")))
    }

    @Test func runningOutOfWatchesDegradesWithAClearWarning() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("a")
        try scratch.makeDirectory("b")
        let log = WatchLogLines()
        let watcher = try makeWatcher(scratch, calls: failingAddWatch(after: 2, errno: ENOSPC), log: log)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }

        #expect(await changes.waitForEnd())
        let degradation = try #require(watcher.degradation)
        #expect(degradation.code == "inotify_watch_limit")
        #expect(degradation.message.contains("fs.inotify.max_user_watches"))
        #expect(degradation.message.contains("sysctl"))
        #expect(watcher.watchCount == 0, "the watches are released")
        let warnings = log.all.filter { $0.contains(" WARNING ") && $0.contains("fs.inotify.max_user_watches") }
        #expect(warnings.count == 1, "\(log.all)")
    }

    @Test func runningOutOfWatchesLaterKeepsWhatWasSeen() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let log = WatchLogLines()
        let watcher = try makeWatcher(scratch, calls: failingAddWatch(after: 1, errno: ENOSPC), log: log)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }
        #expect(watcher.degradation == nil)

        try scratch.makeDirectory("new")
        #expect(await changes.waitForEnd())
        #expect(watcher.degradation?.code == "inotify_watch_limit")
        #expect(changes.paths.contains(scratch.file("new")), "the change that needed the watch still counts")
    }

    @Test func runningOutOfInstancesDegrades() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        var calls = InotifyCalls.system
        calls.initialize = { .failure(InotifyCallError(errno: EMFILE)) }
        let log = WatchLogLines()
        let watcher = try makeWatcher(scratch, calls: calls, log: log)
        let changes = BatchCollector.start(await watcher.start())
        #expect(await changes.waitForEnd())
        #expect(watcher.degradation?.code == "inotify_instance_limit")
        #expect(watcher.degradation?.message.contains("fs.inotify.max_user_instances") == true)
        #expect(log.all.contains { $0.contains("fs.inotify.max_user_instances") })
    }

    @Test func suppressedChangesDoNotCountButTheirDirectoriesAreWatched() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("restore")
        let watcher = try makeWatcher(scratch)
        let changes = BatchCollector.start(await watcher.start())
        defer { watcher.stop() }

        let suppression = watcher.beginSuppression(of: [scratch.file("restore")])
        // As restic does it, from another process: our own late closes would land after the suppression.
        try scratch.writeFromChild((0..<20).map { "restore/deep/file\($0).txt" })
        await watcher.endSuppression(suppression)
        try scratch.write("sentinel")
        #expect(await changes.wait(for: scratch.file("sentinel")))
        #expect(!changes.paths.contains { $0.contains("/restore") }, "\(changes.paths)")
        // The restored directory is watched: a later change in it counts.
        try scratch.write("restore/deep/after.txt")
        #expect(await changes.wait(for: scratch.file("restore/deep/after.txt")))
    }

    @Test func overflowIsReportedAndNewDirectoriesArePickedUp() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        guard case .success(let descriptor) = InotifyCalls.system.initialize() else {
            Issue.record("inotify is not available")
            return
        }
        defer { close(descriptor) }
        var tree = InotifyTree(backup: "docs", descriptor: descriptor, calls: .system, excludes: .none, logger: WatchLogLines().logger(), roots: [scratch.path])
        try tree.addRoots()
        #expect(tree.watches.count == 1)
        // Directories created while events were lost.
        try scratch.makeDirectory("missed/inside")
        var batch = WatchBatch()
        try tree.handle(InotifyEvent(watch: -1, mask: UInt32(IN_Q_OVERFLOW), cookie: 0, name: ""), isSuppressed: { _ in false }, into: &batch, limit: 10)
        #expect(batch.overflow)
        #expect(tree.watches.count == 3)
    }

    @Test func stopEndsTheStream() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let watcher = try makeWatcher(scratch)
        let changes = BatchCollector.start(await watcher.start())
        watcher.stop()
        #expect(await changes.waitForEnd())
        #expect(watcher.isFinished)
        #expect(watcher.degradation == nil)
        // A second start gives an ended stream rather than a second thread.
        let again = BatchCollector.start(await watcher.start())
        #expect(await again.waitForEnd())
    }
}
