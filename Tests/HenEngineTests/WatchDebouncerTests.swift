import Foundation
import Synchronization
import Testing
@testable import HenEngine

/// The debouncer on a manual clock: no test here waits on wall time.
@Suite(.timeLimit(.minutes(1))) struct WatchDebouncerTests {
    /// Runs a debouncer and hands its bursts over one at a time.
    final class Harness: Sendable {
        let clock = ManualClock()
        let debouncer: ChangeDebouncer
        let fired: AsyncStream<ChangeBurst>
        private let firedContinuation: AsyncStream<ChangeBurst>.Continuation
        private let firedCount = CallCounter()
        let runner = Mutex<Task<Void, any Error>?>(nil)

        init(latency: Duration, maxWait: Duration, pathLimit: Int = 10) {
            debouncer = ChangeDebouncer(latency: latency, maxWait: maxWait, clock: clock, pathLimit: pathLimit)
            (fired, firedContinuation) = AsyncStream.makeStream(of: ChangeBurst.self)
            let debouncer = debouncer
            let continuation = firedContinuation
            runner.withLock {
                $0 = Task { [firedCount] in
                    try await debouncer.run { burst in
                        _ = firedCount.next()
                        continuation.yield(burst)
                    }
                    continuation.finish()
                }
            }
        }

        var count: Int { firedCount.current }

        func record(_ paths: [String]) async {
            var batch = WatchBatch()
            for path in paths { batch.add(path, limit: 100) }
            await debouncer.record(batch)
        }

        /// Moves the clock and waits until the debouncer has looked at the new time and slept again.
        func advance(_ duration: Duration) async {
            clock.advance(by: duration)
            await clock.waitForSleepers(1)
        }

        func next() async -> ChangeBurst? {
            var iterator = fired.makeAsyncIterator()
            return await iterator.next()
        }

        func stop() { runner.withLock { $0?.cancel() } }
    }

    @Test func changesRestartTheQuietPeriod() async throws {
        let harness = Harness(latency: .milliseconds(100), maxWait: .seconds(10))
        defer { harness.stop() }
        await harness.record(["/a"])
        await harness.clock.waitForSleepers(1)
        #expect(await harness.debouncer.fireTime == .milliseconds(100))

        harness.clock.advance(by: .milliseconds(60))
        await harness.record(["/b"])
        #expect(await harness.debouncer.fireTime == .milliseconds(160))

        // At 120 ms the first deadline has passed but the tree was not quiet for 100 ms: no fire.
        await harness.advance(.milliseconds(60))
        #expect(harness.count == 0)
        await harness.advance(.milliseconds(39))
        #expect(harness.count == 0)

        harness.clock.advance(by: .milliseconds(1))
        let burst = try #require(await harness.next())
        #expect(burst.paths == ["/a", "/b"])
        #expect(burst.count == 2)
        #expect(burst.firstChange == .zero)
        #expect(burst.lastChange == .milliseconds(60))
        #expect(harness.count == 1)
        #expect(await harness.debouncer.lastFireTime == .milliseconds(160))
        #expect(await harness.debouncer.pending == nil)
    }

    @Test func continuousChangesFireAtMaxWait() async throws {
        let harness = Harness(latency: .milliseconds(100), maxWait: .milliseconds(250))
        defer { harness.stop() }
        await harness.record(["/f0"])
        await harness.clock.waitForSleepers(1)
        // A change every 50 ms: the quiet period never ends.
        for step in 1...4 {
            await harness.advance(.milliseconds(50))
            await harness.record(["/f\(step)"])
            #expect(harness.count == 0)
        }
        #expect(await harness.debouncer.fireTime == .milliseconds(250))
        harness.clock.advance(by: .milliseconds(50))
        let burst = try #require(await harness.next())
        #expect(burst.count == 5)
        #expect(burst.firstChange == .zero)
        #expect(burst.lastChange == .milliseconds(200))
        #expect(await harness.debouncer.lastFireTime == .milliseconds(250))

        // Changes after the fire start a new burst with its own quiet period and max_wait.
        await harness.record(["/later"])
        await harness.clock.waitForSleepers(1)
        #expect(await harness.debouncer.fireTime == .milliseconds(350))
        harness.clock.advance(by: .milliseconds(100))
        let second = try #require(await harness.next())
        #expect(second.paths == ["/later"])
        #expect(second.firstChange == .milliseconds(250))
    }

    @Test func keepsTheFirstPathsAndCountsAll() async throws {
        let harness = Harness(latency: .milliseconds(10), maxWait: .seconds(1), pathLimit: 3)
        defer { harness.stop() }
        await harness.record(["/a", "/b"])
        await harness.record(["/a", "/c", "/d", "/e"])
        await harness.debouncer.record(WatchBatch(paths: ["/f"], count: 7))
        await harness.clock.waitForSleepers(1)
        harness.clock.advance(by: .milliseconds(10))
        let burst = try #require(await harness.next())
        #expect(burst.paths == ["/a", "/b", "/c"])
        #expect(burst.count == 2 + 4 + 7)
    }

    @Test func overflowCountsAsAChange() async throws {
        let harness = Harness(latency: .milliseconds(10), maxWait: .seconds(1))
        defer { harness.stop() }
        await harness.debouncer.record(WatchBatch(overflow: true))
        await harness.clock.waitForSleepers(1)
        harness.clock.advance(by: .milliseconds(10))
        let burst = try #require(await harness.next())
        #expect(burst.overflow)
        #expect(burst.paths == [WatchBatch.overflowPath])
        #expect(burst.count == 1)
    }

    @Test func emptyBatchesChangeNothing() async throws {
        let harness = Harness(latency: .milliseconds(10), maxWait: .seconds(1))
        defer { harness.stop() }
        await harness.debouncer.record(WatchBatch())
        #expect(await harness.debouncer.pending == nil)
        #expect(await harness.debouncer.fireTime == nil)
    }

    @Test func finishFiresThePendingBurstAndEnds() async throws {
        let harness = Harness(latency: .milliseconds(100), maxWait: .seconds(1))
        await harness.record(["/a"])
        await harness.clock.waitForSleepers(1)
        await harness.debouncer.finish()
        #expect(harness.count == 0)
        harness.clock.advance(by: .milliseconds(100))
        var bursts: [ChangeBurst] = []
        for await burst in harness.fired { bursts.append(burst) }
        #expect(bursts.map(\.paths) == [["/a"]])
        try await harness.runner.withLock { $0 }?.value
    }

    @Test func cancellationDropsThePendingBurst() async throws {
        let harness = Harness(latency: .milliseconds(100), maxWait: .seconds(1))
        await harness.record(["/a"])
        await harness.clock.waitForSleepers(1)
        let runner = harness.runner.withLock { $0 }
        runner?.cancel()
        await #expect(throws: CancellationError.self) { try await runner?.value }
        #expect(harness.count == 0)
    }
}
