import Foundation
import Logging
import Synchronization
import HenHooks

/// A clock that records each requested sleep and returns at once: retries are tested without waiting.
struct RecordingClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    final class Record: Sendable {
        let sleeps = Mutex<[Duration]>([])
    }

    let record = Record()
    var now: Instant { Instant(offset: record.sleeps.withLock { $0.reduce(.zero, +) }) }
    var minimumResolution: Duration { .nanoseconds(1) }
    var sleeps: [Duration] { record.sleeps.withLock { $0 } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let wait = now.duration(to: deadline)
        record.sleeps.withLock { $0.append(wait) }
        try Task.checkCancellation()
    }
}

/// Collects what `onStep` reports.
final class StepRecorder: Sendable {
    private let steps = Mutex<[HookStepResult]>([])
    func record(_ step: HookStepResult) { steps.withLock { $0.append(step) } }
    var all: [HookStepResult] { steps.withLock { $0 } }
}

func testContext(error: String? = nil) -> HookContext {
    HookContext(
        jobID: "job-42",
        operation: "backup",
        backup: "grafana db",
        repositories: ["local-disk", "usb"],
        trigger: "schedule",
        state: "running",
        error: error,
        snapshotIDs: ["abc123", "def456"],
        hostname: "laptop"
    )
}

func testRunner(clock: RecordingClock = RecordingClock(), outputLimit: Int = 16 * 1024, grace: Duration = .seconds(2)) -> HookRunner {
    var logger = Logger(label: "hen.hooks.test")
    logger.logLevel = .critical
    return HookRunner(logger: logger, retryBackoff: .seconds(1), clock: clock, outputLimit: outputLimit, terminationGrace: grace)
}

func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0
}
