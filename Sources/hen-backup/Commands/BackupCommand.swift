import ArgumentParser
import Foundation
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

    func run() async throws {
        let context = try CommandContext.load(options)
        try await JobRunning.run(.backup(backup: name, repositories: repository.isEmpty ? nil : repository), context: context)
    }
}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Forget the backup's snapshots that its retention does not keep, then prune the data."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The backup's name in the configuration.")
    var name: String

    func run() async throws {
        let context = try CommandContext.load(options)
        try await JobRunning.run(.prune(backup: name), context: context)
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

    func run() async throws {
        let context = try CommandContext.load(options)
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

    func run() async throws {
        let context = try CommandContext.load(options)
        let target = URL(fileURLWithPath: target, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        try await JobRunning.run(.restore(repository: repository, snapshot: snapshot, target: target, includes: include), context: context)
    }
}
