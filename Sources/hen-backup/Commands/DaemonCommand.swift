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

            The HTTP API listens on api.listen. SIGHUP (or POST /api/v1/config/reload) reads the configuration \
            file again; a file with errors is refused and the running configuration stays.

            --read-only (or mode: recovery) serves browsing, download, restore and check only: no backup, \
            prune, forget or unlock, nothing scheduled or watched. With --hostname it shows another host's \
            snapshots: how a dead machine's files are recovered from a fresh one with only its config file.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Recovery mode: browse, download, restore and check only; never write to a repository.")
    var readOnly = false

    @Option(name: .long, help: "Act as this host (its snapshots only) instead of the configured hostname.")
    var hostname: String?

    func run() async throws {
        MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
        // Before the engine is opened: it takes the process-wide metrics factory (served at /metrics).
        MonitoringRoutes.bootstrapMetricsSystem()
        var context = try await CommandContext.load(options, component: "daemon")
        if hostname?.isEmpty == true {
            printError("--hostname needs a host name.")
            throw ExitCode.validationFailure
        }
        let overrides = ConfigurationOverrides(mode: readOnly ? .recovery : nil, hostname: hostname)
        overrides.apply(to: &context.configuration)
        let logger = Logger(label: "hen.daemon")
        // Before anything is touched: the engines the repositories need must run, the data directory must
        // be ours alone, and the API's address must be free. Each failure is one sentence and exit 1.
        let programs = await context.configuration.verifyDriverPrograms(registry: context.drivers, logger: logger)
        guard programs.failures.isEmpty else {
            for failure in programs.failures { printError(failure) }
            throw ExitCode.failure
        }
        let engine = try await context.openEngine(exclusiveAs: "daemon")
        await engine.setOverrides(overrides)
        let configuration = engine.configuration
        do {
            try ListenAddress.checkAvailable(configuration.api.listen, configurationFile: configuration.sourcePath)
        } catch {
            printError(error.message)
            throw ExitCode.failure
        }
        for warning in configuration.warnings {
            logger.warning("\(warning)")
        }
        if !programs.found.isEmpty {
            logger.info("Programs found.", metadata: ["programs": "\(programs.found.joined(separator: ", "))"])
        }
        let recovery = try await EngineCommandSupport.report { try await engine.recover() }
        logger.notice("Daemon started.", metadata: [
            "config": "\(configuration.sourcePath)", "data_dir": "\(configuration.dataDirectory)", "hostname": "\(configuration.hostname)",
            "mode": "\(configuration.mode.rawValue)", "interrupted": "\(recovery.interrupted.count)", "requeued": "\(recovery.requeued.count)",
            "unlocks": "\(recovery.unlocks.count)",
        ])
        let loader = ConfigurationLoader(environment: ProcessInfo.processInfo.environment, drivers: engine.registry)
        let app = try buildApplication(engine: engine, configuration: configuration, logger: Logger(label: "hen.api"), loader: loader)
        logger.notice("API listening.", metadata: [
            "listen": "\(configuration.api.listen)", "auth": "\(configuration.api.auth.isRequired ? "required" : "none")",
        ])
        if let url = DaemonClient.url(listen: configuration.api.listen) {
            // The address a person opens; a wildcard listen is reached on loopback from this machine.
            logger.notice("Web UI at \(url.absoluteString)/", metadata: ["url": "\(url.absoluteString)/"])
        }
        do {
            try await Self.serve(engine: engine, logger: logger, api: app, loader: loader)
        } catch {
            // Another program took the address between the check above and the server's bind.
            guard let sentence = ListenAddress.describeBindFailure(error, listen: configuration.api.listen, configurationFile: configuration.sourcePath) else { throw error }
            printError(sentence)
            throw ExitCode.failure
        }
        logger.notice("Daemon stopped.")
    }

    /// Runs the daemon's services until a signal. The group stops them in reverse order: triggers first,
    /// then the engine, which waits for its running jobs; the API stops after it (it answers while running
    /// jobs finish, and its event streams end when the engine closes them), and the second-signal listener
    /// last, so that a second signal can hurry the jobs the engine waits for.
    static func serve(engine: Engine, logger: Logger, api: (any Service)? = nil, loader: ConfigurationLoader) async throws {
        let services: [any Service] = [
            OrphanReaperService(logger: Logger(label: "hen.reaper")),
            SecondSignalService(engine: engine, logger: logger),
            ReloadOnHangupService(engine: engine, loader: loader, logger: logger),
        ] + (api.map { [$0] } ?? []) + [
            EngineService(engine: engine),
            JobHistoryService(engine: engine, logger: Logger(label: "hen.engine")),
            await engine.makeWatchService(logger: Logger(label: "hen.watch")),
            SchedulerService(engine: engine, logger: Logger(label: "hen.scheduler")),
            WatchdogService(engine: engine, logger: Logger(label: "hen.watchdog")),
        ]
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
