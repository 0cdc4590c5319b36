import HenProcess
import Logging
import ServiceLifecycle

/// As PID 1 (a container's entry point), orphaned processes become the daemon's children: a hook's
/// background process, the helpers of a restic that ended. They are reaped here every two seconds, so no
/// zombie piles up. Elsewhere the init process reaps them and this service only waits for the shutdown.
public struct OrphanReaperService: Service {
    let logger: Logger
    let reaper = OrphanReaper()

    public init(logger: Logger) {
        self.logger = logger
    }

    public func run() async throws {
        guard OrphanReaper.receivesOrphans else {
            try? await gracefulShutdown()
            return
        }
        logger.info("Running as PID 1: orphaned processes handed to the daemon are reaped.")
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let reaped = reaper.sweep()
            if !reaped.isEmpty { logger.debug("Reaped orphaned processes.", metadata: ["pids": "\(reaped)"]) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
    }
}
