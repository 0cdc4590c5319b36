import Foundation
import ServiceLifecycle

/// The engine's life in the daemon's service group: at graceful shutdown lets running jobs finish for
/// `shutdown_grace`, then stops them cleanly (recorded `interrupted`); when cancelled, stops them at once,
/// still cleanly. (The daily history trim is ``JobHistoryService``.)
public struct EngineService: Service {
    let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func run() async throws {
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
