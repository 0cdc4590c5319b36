import HenEngine
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reads the configuration file again, as `POST /api/v1/config/reload` does; a file with errors is
/// refused with every error logged, and the running configuration stays. Ends with the graceful shutdown.
struct ReloadOnHangupService: Service {
    let engine: Engine
    let loader: ConfigurationLoader
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                _ = try await engine.reloadConfigurationFile(loader: loader)
            } catch {
                logger.error("SIGHUP: the configuration file has errors and was not loaded; the running configuration stays.", metadata: ["errors": "\(error.issues.count)"])
                for issue in error.issues { logger.error("\(issue)") }
            }
        }
    }
}
