/// Turns a stream of changes into few triggers: a change starts a quiet period of `latency`, each further
/// change restarts it, and the burst fires when the quiet period ends or `maxWait` after its first change,
/// whichever comes first. Changes recorded while a fire is being handled start the next burst.
///
/// Time comes from the injected clock only, so tests drive it with a manual clock.
public actor ChangeDebouncer {
    public let latency: Duration
    public let maxWait: Duration
    /// How many distinct paths a burst keeps.
    public let pathLimit: Int
    private let clock: any Clock<Duration>
    private let elapsed: @Sendable () -> Duration
    private var burst: ChangeBurst?
    private var lastFire: Duration?
    private let signal: AsyncStream<Void>
    private let signalContinuation: AsyncStream<Void>.Continuation

    public init(latency: Duration, maxWait: Duration, clock: any Clock<Duration> = ContinuousClock(), pathLimit: Int = 10) {
        self.latency = latency
        self.maxWait = maxWait
        self.pathLimit = pathLimit
        self.clock = clock
        self.elapsed = Self.stopwatch(clock)
        (signal, signalContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let start = clock.now
        return { start.duration(to: clock.now) }
    }

    /// Time on the debouncer's clock since it was created.
    public nonisolated var now: Duration { elapsed() }

    /// Records changes now.
    public func record(_ batch: WatchBatch) {
        guard !batch.isEmpty else { return }
        let now = elapsed()
        var current = burst ?? ChangeBurst(firstChange: now, lastChange: now)
        current.lastChange = now
        current.count += batch.count
        if batch.overflow {
            current.overflow = true
            current.count += 1
            append(WatchBatch.overflowPath, to: &current)
        }
        for path in batch.paths { append(path, to: &current) }
        burst = current
        signalContinuation.yield()
    }

    private func append(_ path: String, to burst: inout ChangeBurst) {
        if burst.paths.count < pathLimit, !burst.paths.contains(path) { burst.paths.append(path) }
    }

    /// The burst being collected, if any.
    public var pending: ChangeBurst? { burst }

    /// When the pending burst fires, on the debouncer's clock.
    public var fireTime: Duration? {
        burst.map { min($0.lastChange + latency, $0.firstChange + maxWait) }
    }

    /// When the last burst fired, on the debouncer's clock.
    public var lastFireTime: Duration? { lastFire }

    /// No more changes will come: ``run(_:)`` fires the pending burst, if any, and returns.
    public func finish() {
        signalContinuation.finish()
    }

    /// Fires bursts until ``finish()`` or cancellation (a pending burst is then dropped: the daemon is stopping).
    public func run(_ fire: @Sendable (ChangeBurst) async -> Void) async throws {
        for await _ in signal {
            try await fireWhenDue(fire)
        }
        try await fireWhenDue(fire)
    }

    private func fireWhenDue(_ fire: @Sendable (ChangeBurst) async -> Void) async throws {
        // The deadline only moves later while a burst collects, so sleeping to the one known and
        // looking again is enough; no wake-up on each change is needed.
        while let deadline = fireTime {
            let now = elapsed()
            if now >= deadline {
                let fired = burst!
                burst = nil
                lastFire = now
                await fire(fired)
            } else {
                try await clock.sleep(for: deadline - now)
            }
        }
    }
}
