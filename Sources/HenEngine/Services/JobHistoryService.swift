import Logging
import ServiceLifecycle

/// Trims the job history (`job_history.keep`, `job_history.max_jobs`) once a day; the daemon's start
/// trims it too (``Engine/recover()``). Ends with the graceful shutdown.
public struct JobHistoryService: Service {
    let engine: Engine
    let clock: any Clock<Duration>
    let interval: Duration
    let logger: Logger

    public init(engine: Engine, clock: any Clock<Duration> = ContinuousClock(), interval: Duration = .seconds(86_400), logger: Logger) {
        self.engine = engine
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let clock = self.clock
        let interval = self.interval
        while true {
            do {
                // A graceful shutdown (or cancellation) ends the wait, and the service with it.
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                return
            }
            do { try await engine.enforceHistoryRetention() } catch { logger.error("The job history cannot be trimmed: \(error)") }
        }
    }
}
