import Foundation
import HenDrivers
// Configuration's memberwise initializer is internal (the loader is the only production builder); debug and
// test builds compile HenEngine with testability, which this test-only module relies on.
@testable import HenEngine

extension Configuration {
    /// The configuration the engine and server tests start from: everything below `root` (`config.yml`,
    /// `data/`), host `testhost` in UTC, the API on a free loopback port, one job at a time, and the
    /// daemon's defaults for grace, status, stall and history. A test names only what it is about.
    public static func fixture(
        root: String,
        hostname: String = "testhost",
        mode: Mode = .normal,
        api: API = API(listen: "127.0.0.1:0"),
        maxConcurrentJobs: Int = 1,
        jobHistory: JobHistory = JobHistory(keep: .seconds(90 * 86_400), maxJobs: 10_000),
        executables: [String: String] = [:],
        repositories: [String: Repository],
        backups: [Backup],
        allowedRestoreTargets: [String] = []
    ) -> Configuration {
        Configuration(
            sourcePath: "\(root)/config.yml",
            hostname: hostname,
            dataDirectory: "\(root)/data",
            timeZone: TimeZone(identifier: "UTC")!,
            mode: mode,
            api: api,
            maxConcurrentJobs: maxConcurrentJobs,
            shutdownGrace: .seconds(30),
            statusInterval: .seconds(60),
            stallWarning: .seconds(600),
            jobHistory: jobHistory,
            limits: TransferLimits(),
            log: Log(level: "info", levels: [:]),
            executables: executables,
            repositories: repositories,
            backups: backups,
            restore: Restore(allowedTargets: allowedRestoreTargets),
            warnings: []
        )
    }
}
