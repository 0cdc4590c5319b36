import ArgumentParser
import Foundation
import HenEngine
import HenServer
import Logging
import ServiceLifecycle
import UnixSignals

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run until SIGTERM or SIGINT: back up, prune and check on schedule.",
        discussion: """
            On SIGTERM or SIGINT the daemon stops its triggers, lets a running job finish for shutdown_grace, \
            then stops it cleanly and records it interrupted; queued jobs run at the next start. A second \
            signal stops a running job at once, still cleanly (restic is interrupted, never killed, so no \
            lock is left behind).
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        // Before the engine is opened: it takes the process-wide metrics factory (served at /metrics).
        MonitoringRoutes.bootstrapMetricsSystem()
        let engine = try await EngineCommandSupport.openEngine(options, component: "daemon")
        let logger = Logger(label: "hen.daemon")
        let configuration = engine.configuration
        for warning in configuration.warnings {
            logger.warning("\(warning)")
        }
        let recovery = try await EngineCommandSupport.report { try await engine.recover() }
        logger.notice("Daemon started.", metadata: [
            "config": "\(configuration.sourcePath)", "data_dir": "\(configuration.dataDirectory)", "hostname": "\(configuration.hostname)",
            "mode": "\(configuration.mode.rawValue)", "interrupted": "\(recovery.interrupted.count)", "requeued": "\(recovery.requeued.count)",
            "unlocks": "\(recovery.unlocks.count)",
        ])
        try await Self.serve(engine: engine, logger: logger)
        logger.notice("Daemon stopped.")
    }

    /// Runs the engine's services until a signal. Services stop in reverse order: triggers first, then the
    /// engine, which waits for its running job.
    static func serve(engine: Engine, logger: Logger, extraServices: [any Service] = []) async throws {
        let services: [any Service] = [
            EngineService(engine: engine, logger: Logger(label: "hen.engine")),
        ] + extraServices + [
            await engine.makeWatchService(logger: Logger(label: "hen.watch")),
            SchedulerService(engine: engine, logger: Logger(label: "hen.scheduler")),
            WatchdogService(engine: engine, logger: Logger(label: "hen.watchdog")),
        ]
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        // The first signal is the group's (graceful); a second one stops running jobs at once.
        let secondSignal = Task {
            var count = 0
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                count += 1
                if count == 1 {
                    logger.notice("Signal \(signal): shutting down; send it again to stop running jobs now.")
                } else {
                    logger.notice("Signal \(signal) again: stopping running jobs now.")
                    await engine.stopNow()
                }
            }
        }
        defer { secondSignal.cancel() }
        try await group.run()
    }
}
