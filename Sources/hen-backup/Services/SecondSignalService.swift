import HenEngine
import Logging
import ServiceLifecycle
import UnixSignals

/// The first SIGTERM or SIGINT is the service group's: a graceful shutdown that lets running jobs finish
/// for `shutdown_grace`. A second one stops them at once, still cleanly (restic is interrupted, never
/// killed first). First in the group, so it is shut down last: it must listen while the others stop.
struct SecondSignalService: Service {
    let engine: Engine
    let logger: Logger

    func run() async throws {
        var count = 0
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint).cancelOnGracefulShutdown() {
            count += 1
            if count == 1 {
                logger.notice("Signal \(signal): shutting down; send it again to stop running jobs now.")
            } else {
                logger.notice("Signal \(signal) again: stopping running jobs now.")
                await engine.stopNow()
            }
        }
    }
}
