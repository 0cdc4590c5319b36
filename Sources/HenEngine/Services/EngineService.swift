import Foundation
import Logging
import ServiceLifecycle

/// The engine's life in the daemon's service group: enforces the job history daily; at graceful shutdown
/// lets running jobs finish for `shutdown_grace`, then stops them cleanly (recorded `interrupted`); when
/// cancelled, stops them at once, still cleanly.
public struct EngineService: Service {
    let engine: Engine
    let clock: any Clock<Duration>
    let logger: Logger

    public init(engine: Engine, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.engine = engine
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let engine = self.engine
        let clock = self.clock
        let logger = self.logger
        // The daily history retention runs beside; it ends with the graceful shutdown.
        let retention = Task {
            while !Task.isCancelled {
                do { try await clock.sleep(for: .seconds(86_400)) } catch { return }
                do { try await engine.enforceHistoryRetention() } catch { logger.error("The job history cannot be trimmed: \(error)") }
            }
        }
        defer { retention.cancel() }
        do {
            try await gracefulShutdown()
        } catch {
            // Cancelled rather than asked to shut down gracefully: stop at once.
            await engine.stopNow()
            await engine.shutdown(grace: .zero)
            return
        }
        await engine.shutdown(grace: engine.configuration.shutdownGrace)
    }
}
