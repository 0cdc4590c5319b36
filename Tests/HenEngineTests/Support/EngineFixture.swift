import Foundation
import HenDrivers
import HenEngineTestSupport
import Logging
import Testing
@testable import HenEngine

/// A temporary data directory, a configuration of fake repositories, a job store, a manual clock and an
/// engine on them. `close()` removes the directory.
struct EngineFixture {
    let directory: String
    let backend = FakeBackend()
    let clock = ManualClock()
    var configuration: Configuration
    let logger = Logger(label: "hen.test")

    init(
        repositories: [String: String] = ["local": "fake", "usb": "fake"],
        backups: [Configuration.Backup]? = nil,
        maxConcurrentJobs: Int = 1,
        configure: (inout Configuration) -> Void = { _ in }
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-engine-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var repositoryDefinitions: [String: Configuration.Repository] = [:]
        for (name, driver) in repositories {
            repositoryDefinitions[name] = Configuration.Repository(name: name, driver: driver, location: "\(directory)/repos/\(name)")
        }
        configuration = .fixture(
            root: directory,
            maxConcurrentJobs: maxConcurrentJobs,
            repositories: repositoryDefinitions,
            backups: backups ?? [
                Configuration.Backup(name: "documents", paths: ["/home/me/documents"], repositories: ["local"]),
            ]
        )
        configure(&configuration)
    }

    /// The two backups most queueing tests need: "documents" (/data) and "pictures" (/pics), each on its
    /// repository.
    static func documentsAndPictures(documentsOn: String = "local", picturesOn: String = "usb", picturesPriority: JobPriority = .normal) -> [Configuration.Backup] {
        [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: [documentsOn]),
            Configuration.Backup(name: "pictures", paths: ["/pics"], repositories: [picturesOn], priority: picturesPriority),
        ]
    }

    func makeEngine(hooks: (any HookExecuting)? = nil) throws -> Engine {
        let store = try JobStore(dataDirectory: configuration.dataDirectory)
        let clock = self.clock
        return Engine(configuration: configuration, registry: backend.registry(), store: store, clock: clock, now: { clock.date }, logger: logger, hooks: hooks)
    }

    func close() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension Engine {
    /// Submits a backup of `backup` and returns its record.
    func backup(_ backup: String, priority: JobPriority? = nil, repositories: [String]? = nil, trigger: JobTrigger = .api) async throws -> JobRecord {
        try await submit(JobRequest(operation: .backup(backup: backup, repositories: repositories), trigger: trigger, priority: priority))
    }

    /// Waits until the job is in `state` (for running jobs: until it has started).
    func waitFor(_ jobID: String, state: JobState) async throws {
        let events = self.events(jobID: jobID)
        if try await job(id: jobID)?.state == state { return }
        for await event in events {
            if case .state(_, let reached, _) = event, reached == state { return }
        }
    }
}
