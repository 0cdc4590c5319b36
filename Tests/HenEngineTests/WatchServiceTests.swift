import Foundation
import HenJSON
import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import HenEngine

/// The watch service end to end: real files, real inotify, a short latency. Timing tests use the wall
/// clock (the kernel's events come in real time) with bounds far from the expected values; the status
/// test uses a manual clock.
@Suite(.timeLimit(.minutes(1))) struct WatchServiceTests {
    struct Submission: Sendable, Hashable {
        var backup: String
        var paths: [String]
        var count: Int
        var at: ContinuousClock.Instant
    }

    final class Submissions: Sendable {
        private let list = Mutex<[Submission]>([])
        var all: [Submission] { list.withLock { $0 } }

        var submit: WatchService.Submit {
            { backup, paths, count in
                let submission = Submission(backup: backup, paths: paths, count: count, at: .now)
                self.list.withLock { $0.append(submission) }
            }
        }
    }

    static func backup(_ name: String, paths: [String], excludes: [String] = [], latency: Duration, maxWait: Duration) -> Configuration.Backup {
        Configuration.Backup(name: name, paths: paths, excludes: excludes, repositories: ["local"], watch: .init(latency: latency, maxWait: maxWait))
    }

    /// Runs `service` for the duration of `body`, then stops it.
    static func running<T>(_ service: WatchService, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await service.run() }
        defer { task.cancel() }
        // The watches are in place once every watcher reports "watching" (or has degraded).
        let started = await eventually {
            await service.status().allSatisfy { $0.state != .starting }
        }
        #expect(started)
        let result = try await body()
        task.cancel()
        try await task.value
        return result
    }

    /// Moves `count` files in from outside: one inotify event each (IN_MOVED_TO), so the test knows how many
    /// changes the debouncer must have counted before it moves the clock (a written file makes two or more).
    /// The files are written by a child process: a close of ours could reach the watcher after the move
    /// and count as a second change (see ``WatchScratch/writeFromChild(_:_:)``).
    static func moveIn(_ count: Int, into scratch: WatchScratch, from outside: WatchScratch, prefix: String) throws {
        let names = (0..<count).map { "\(prefix)\($0).txt" }
        try outside.writeFromChild(names)
        for name in names {
            try FileManager.default.moveItem(atPath: outside.file(name), toPath: scratch.file(name))
        }
    }

    /// Waits until the pending burst counts exactly `count` changes.
    static func waitForPending(_ service: WatchService, _ count: Int) async -> Bool {
        await eventually { await service.status().first?.pendingChanges == count }
    }

    // Time comes from a manual clock: how long the machine takes to write files, or to deliver their events,
    // cannot split or merge bursts (a loaded CI once paused longer than a latency between two writes).
    @Test func rapidChangesQueueExactlyOneBackupAfterTheQuietPeriod() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let outside = try WatchScratch()
        defer { outside.remove() }
        let clock = ManualClock()
        let submissions = Submissions()
        let latency = Duration.milliseconds(250)
        let service = WatchService(
            backups: [Self.backup("docs", paths: [scratch.path], latency: latency, maxWait: .seconds(20))],
            clock: clock, now: { clock.date }, logger: WatchLogLines().logger(), submit: submissions.submit
        )
        try await Self.running(service) {
            try Self.moveIn(30, into: scratch, from: outside, prefix: "file")
            #expect(await Self.waitForPending(service, 30))
            await clock.waitForSleepers(1)
            // Just short of the quiet period: nothing yet.
            clock.advance(by: latency - .milliseconds(1))
            await clock.waitForSleepers(1)
            #expect(submissions.all.isEmpty)
            clock.advance(by: .milliseconds(1))
            #expect(await eventually { submissions.all.count == 1 })
            // Quiet for three more latencies: still one.
            clock.advance(by: latency * 3)
            let status = try #require(await service.status().first)
            #expect(status.pendingTrigger == nil)
            #expect(status.lastTrigger == clock.date.addingTimeInterval(-0.75))
            let all = submissions.all
            #expect(all.count == 1)
            let first = try #require(all.first)
            #expect(first.backup == "docs")
            #expect(first.count == 30, "\(first.paths)")
            #expect(first.paths.count == 10)
            #expect(first.paths.first == scratch.file("file0.txt"))
        }
    }

    @Test func continuousChangesQueueABackupAtMaxWait() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let outside = try WatchScratch()
        defer { outside.remove() }
        let clock = ManualClock()
        let submissions = Submissions()
        let service = WatchService(
            backups: [Self.backup("docs", paths: [scratch.path], latency: .milliseconds(700), maxWait: .milliseconds(1200))],
            clock: clock, now: { clock.date }, logger: WatchLogLines().logger(), submit: submissions.submit
        )
        try await Self.running(service) {
            // A change every 100 ms: the tree is never quiet for 700 ms, so only max_wait fires, at 1.2 s.
            let names = (0..<12).map { "busy\($0).txt" }
            try outside.writeFromChild(names)
            for (step, name) in names.enumerated() {
                try FileManager.default.moveItem(atPath: outside.file(name), toPath: scratch.file(name))
                let reached = await Self.waitForPending(service, step + 1)
                let pending = await service.status().first?.pendingChanges
                #expect(reached, "step \(step): \(String(describing: pending)) \(submissions.all)")
                #expect(submissions.all.isEmpty, "fired at \(step * 100) ms, before max_wait")
                await clock.waitForSleepers(1)
                clock.advance(by: .milliseconds(100))
            }
            #expect(await eventually { submissions.all.count == 1 })
            let first = try #require(submissions.all.first)
            #expect(first.count == 12, "\(first.paths)")
            let status = try #require(await service.status().first)
            #expect(status.lastTrigger == clock.date)
        }
    }

    @Test func anExcludedChangeQueuesNothing() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let submissions = Submissions()
        let service = WatchService(
            backups: [Self.backup("docs", paths: [scratch.path], excludes: ["*.tmp", "cache"], latency: .milliseconds(100), maxWait: .seconds(5))],
            logger: WatchLogLines().logger(), submit: submissions.submit
        )
        try await Self.running(service) {
            try scratch.write("draft.tmp")
            try scratch.write("cache/blob")
            // Enough time for a trigger to have fired, were these changes counted.
            try await Task.sleep(for: .milliseconds(400))
            #expect(submissions.all.isEmpty)
            try scratch.write("real.txt")
            #expect(await eventually { submissions.all.count == 1 })
            #expect(submissions.all.first?.paths == [scratch.file("real.txt")])
        }
    }

    @Test func aRestoreIntoAWatchedPathQueuesNothing() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("restored")
        let submissions = Submissions()
        let service = WatchService(
            backups: [Self.backup("docs", paths: [scratch.path], latency: .milliseconds(100), maxWait: .seconds(5))],
            logger: WatchLogLines().logger(), submit: submissions.submit
        )
        try await Self.running(service) {
            let written = try await service.suppress(paths: [scratch.file("restored")]) { () throws -> Int in
                // Written by another process, as restic does: our own closes could arrive after the suppression.
                try scratch.writeFromChild((0..<25).map { "restored/tree/file\($0).txt" })
                return 25
            }
            #expect(written == 25)
            try await Task.sleep(for: .milliseconds(400))
            #expect(submissions.all.isEmpty, "\(submissions.all)")
            try scratch.write("restored/tree/edited-later.txt")
            #expect(await eventually { submissions.all.count == 1 })
            #expect(submissions.all.first?.paths == [scratch.file("restored/tree/edited-later.txt")])
        }
    }

    @Test func anExhaustedWatchLimitDegradesOneBackupAndSparesTheOthers() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("big/a")
        try scratch.makeDirectory("big/b")
        try scratch.makeDirectory("small")
        let log = WatchLogLines()
        let submissions = Submissions()
        // The kernel runs out of watches when the "big" backup reaches its subdirectories.
        let bigSubdirectories = scratch.file("big") + "/"
        var calls = InotifyCalls.system
        calls.addWatch = { descriptor, path, mask in
            if path.hasPrefix(bigSubdirectories) { return .failure(InotifyCallError(errno: ENOSPC)) }
            return InotifyCalls.system.addWatch(descriptor, path, mask)
        }
        let service = WatchService(
            backups: [
                Self.backup("big", paths: [scratch.file("big")], latency: .milliseconds(100), maxWait: .seconds(5)),
                Self.backup("small", paths: [scratch.file("small")], latency: .milliseconds(100), maxWait: .seconds(5)),
            ],
            logger: log.logger(), calls: calls, submit: submissions.submit
        )
        try await Self.running(service) {
            let status = await service.status()
            let big = try #require(status.first { $0.backup == "big" })
            #expect(big.state == .degraded)
            #expect(big.degraded?.code == "inotify_watch_limit")
            #expect(big.degraded?.message.contains("fs.inotify.max_user_watches") == true)
            #expect(big.watches == 0)
            let small = try #require(status.first { $0.backup == "small" })
            #expect(small.state == .watching)
            #expect(small.watches == 1)
            #expect(log.all.filter { $0.contains(" WARNING ") && $0.contains("fs.inotify.max_user_watches") }.count == 1)

            try scratch.write("big/a/ignored.txt")
            try scratch.write("small/seen.txt")
            #expect(await eventually { submissions.all.count == 1 })
            #expect(submissions.all.map(\.backup) == ["small"])
        }
    }

    @Test func statusShowsThePendingTrigger() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let clock = ManualClock()
        let submissions = Submissions()
        let service = WatchService(
            backups: [
                Self.backup("docs", paths: [scratch.path], latency: .seconds(30), maxWait: .seconds(600)),
                Configuration.Backup(name: "unwatched", paths: [scratch.path], repositories: ["local"]),
            ],
            clock: clock, now: { clock.date }, logger: WatchLogLines().logger(), submit: submissions.submit
        )
        try await Self.running(service) {
            var status = try #require(await service.status().first)
            #expect(await service.status().count == 1, "backups without watch are not watched")
            #expect(status.paths == [scratch.path])
            #expect(status.state == .watching)
            #expect(status.watches == 1)
            #expect(status.latencySeconds == 30)
            #expect(status.maxWaitSeconds == 600)
            #expect(status.lastChange == nil)
            #expect(status.pendingTrigger == nil)

            // Moved in: one event, so no part of this change can arrive after the fire below.
            let outside = try WatchScratch()
            defer { outside.remove() }
            try outside.write("one.txt")
            try FileManager.default.moveItem(atPath: outside.file("one.txt"), toPath: scratch.file("one.txt"))
            #expect(await eventually { await service.status().first?.pendingChanges ?? 0 > 0 })
            status = try #require(await service.status().first)
            #expect(status.lastChange == clock.date)
            #expect(status.pendingTrigger == clock.date.addingTimeInterval(30))

            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30))
            #expect(await eventually { submissions.all.count == 1 })
            status = try #require(await service.status().first)
            #expect(status.pendingTrigger == nil)
            #expect(status.lastTrigger == clock.date)

            // As the API and `status --json` write it (HenJSON's convention).
            let json = try HenJSON.encoder().string(status)
            #expect(json.contains("\"pending_changes\":0"))
            #expect(json.contains("\"latency_seconds\":30"))
        }
    }

    @Test func withNothingToWatchTheServiceWaitsForShutdown() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        var calls = InotifyCalls.system
        calls.initialize = { .failure(InotifyCallError(errno: EMFILE)) }
        let service = WatchService(
            backups: [
                Self.backup("degraded", paths: [scratch.path], latency: .milliseconds(100), maxWait: .seconds(5)),
                Configuration.Backup(name: "unwatched", paths: [scratch.path], repositories: ["local"]),
            ],
            logger: WatchLogLines().logger(), calls: calls, submit: { _, _, _ in }
        )
        let ended = CallCounter()
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "hen.test"))
        let task = Task {
            try await group.run()
            _ = ended.next()
        }
        #expect(await eventually { await service.status().first?.state == .degraded })
        // A service that returned here would end the daemon's whole group.
        try await Task.sleep(for: .milliseconds(200))
        #expect(ended.current == 0)
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(ended.current == 1)
    }

    @Test func gracefulShutdownStopsTheWatchers() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        let service = WatchService(
            backups: [Self.backup("docs", paths: [scratch.path], latency: .milliseconds(100), maxWait: .seconds(5))],
            logger: WatchLogLines().logger(), submit: { _, _, _ in }
        )
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "hen.test"))
        let task = Task { try await group.run() }
        #expect(await eventually { await service.status().first?.state == .watching })
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(await service.status().first?.state == .stopped)
    }
}
