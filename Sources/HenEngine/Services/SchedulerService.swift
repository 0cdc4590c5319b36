import Foundation
import Logging
import ServiceLifecycle

/// Turns schedules into jobs: submits every due backup, prune and check, then sleeps (on the injected
/// clock) until the next one is due. Stops at graceful shutdown.
public struct SchedulerService: Service {
    let engine: Engine
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    let logger: Logger
    /// The longest sleep between two looks: jobs ending (and so moving "last run") are noticed by then.
    let maximumSleep: Duration

    public init(engine: Engine, clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = Date.init, logger: Logger, maximumSleep: Duration = .seconds(60)) {
        self.engine = engine
        self.clock = clock
        self.now = now
        self.logger = logger
        self.maximumSleep = maximumSleep
    }

    public func run() async throws {
        // A graceful shutdown cancels the sleep: that is the normal end, not an error.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await tick()
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// One look: submit what is due, then sleep until the next run (at most `maximumSleep`).
    func tick() async throws {
        do {
            let jobs = try await engine.submitDueJobs()
            for job in jobs where job.state == .queued {
                logger.debug("Scheduled job queued.", metadata: ["job": "\(job.id)", "operation": "\(job.operation)", "target": "\(job.target)"])
            }
        } catch {
            logger.error("Scheduling failed: \(error)")
        }
        let runs = (try? await engine.plannedRuns()) ?? []
        let date = now()
        // A run that is due but not submitted (its job is still queued or running) is looked at again
        // every second, so that the next run follows soon after that job ends; not in a busy loop.
        var wait = maximumSleep
        if let upcoming = runs.map(\.date).min() {
            let seconds = upcoming > date ? upcoming.timeIntervalSince(date) : 1
            wait = min(maximumSleep, .milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
        try await clock.sleep(for: max(wait, .milliseconds(100)))
    }
}
