import ArgumentParser
import Foundation
import HenAPI
import HenEngine

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up now, into every repository of the backup or the ones named."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The backup's name in the configuration.")
    var name: String

    @Option(name: .long, help: "Only this repository of the backup (repeatable).")
    var repository: [String] = []

    @Flag(name: .long, help: "With a daemon: follow the job with a progress line and exit with its outcome (in-process runs always wait).")
    var wait = false

    func run() async throws {
        if let daemon = try await Daemon.connect(options) {
            let body = API.BackupRequest(priority: JobRunning.priority, repositories: repository.isEmpty ? nil : repository)
            try await JobRunning.runRemote(daemon, path: "/api/v1/backups/\(name)/backup", body: body, wait: wait, options: options)
            return
        }
        let context = try await CommandContext.load(options)
        try await JobRunning.run(.backup(backup: name, repositories: repository.isEmpty ? nil : repository), context: context)
    }
}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Forget the backup's snapshots that its retention does not keep, then prune the data."
    )

    @OptionGroup var job: BackupJobArguments

    func run() async throws {
        try await job.run(route: "prune", operation: .prune(backup: job.name))
    }
}

/// What `prune` and `drill` take: the global options, a backup's name and `--wait`; and how they run their
/// one job on that backup: queued at the daemon when one runs (`POST /api/v1/backups/NAME/ROUTE`), else here.
struct BackupJobArguments: ParsableArguments {
    @OptionGroup var options: GlobalOptions

    @Argument(help: "The backup's name in the configuration.")
    var name: String

    @Flag(name: .long, help: "With a daemon: follow the job with a progress line and exit with its outcome (in-process runs always wait).")
    var wait = false

    func run(route: String, operation: JobOperation) async throws {
        if let daemon = try await Daemon.connect(options) {
            // The body of both routes is a priority only (PruneRequest).
            try await JobRunning.runRemote(daemon, path: "/api/v1/backups/\(name)/\(route)", body: API.PruneRequest(priority: JobRunning.priority), wait: wait, options: options)
            return
        }
        let context = try await CommandContext.load(options)
        try await JobRunning.run(operation, context: context)
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a repository, and read back part of its data."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The repository's name in the configuration.")
    var repository: String

    @Option(name: .long, help: "Read back this part of the data: 5%, 1/10 or 500M (default: the repository's check.read_data_subset).")
    var readDataSubset: String?

    @Flag(name: .long, help: "With a daemon: follow the job with a progress line and exit with its outcome (in-process runs always wait).")
    var wait = false

    func run() async throws {
        if let daemon = try await Daemon.connect(options) {
            try await JobRunning.runRemote(daemon, path: "/api/v1/repositories/\(repository)/check", body: API.CheckRequest(priority: JobRunning.priority, readDataSubset: readDataSubset), wait: wait, options: options)
            return
        }
        let context = try await CommandContext.load(options)
        let subset = readDataSubset ?? context.configuration.repositories[repository]?.check.readDataSubset
        try await JobRunning.run(.check(repository: repository, readDataSubset: subset), context: context)
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a snapshot, or paths of it, below a target directory."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The repository.")
    var repository: String

    @Argument(help: "The snapshot id (full or short).")
    var snapshot: String

    @Option(name: .long, help: "The directory to restore into (the snapshot's paths are recreated below it).")
    var target: String

    @Option(name: .long, help: "Only this path of the snapshot (repeatable).")
    var include: [String] = []

    @Flag(name: .long, help: "With a daemon: follow the job with a progress line and exit with its outcome (in-process runs always wait).")
    var wait = false

    func run() async throws {
        let target = URL(fileURLWithPath: target, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        if let daemon = try await Daemon.connect(options) {
            let body = API.RestoreRequest(repository: repository, snapshot: snapshot, paths: include, target: target, priority: JobRunning.priority)
            try await JobRunning.runRemote(daemon, path: "/api/v1/restores", body: body, wait: wait, options: options)
            return
        }
        let context = try await CommandContext.load(options)
        // The engine's own restore checks (this host's snapshot, paths in it, the target's spelling); run by
        // the machine's administrator, the in-process engine restores to any target (RestoreScope.anywhere).
        try await JobRunning.run(context: context) { [repository, snapshot, include] engine in
            try await engine.restoreOperation(repository: repository, snapshot: snapshot, paths: include, target: target)
        }
    }
}
