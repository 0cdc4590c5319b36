import ArgumentParser
import Foundation
import HenDrivers
import HenEngine

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List this host's snapshots, oldest first, repository by repository."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Only snapshots written by this backup.")
    var backup: String?

    @Option(name: .long, help: "Only this repository (repeatable).")
    var repository: [String] = []

    /// One line of `--json` output.
    struct Entry: Encodable {
        var id: String
        var shortId: String
        var repository: String
        var backup: String?
        var job: String?
        var time: Date
        var host: String
        var paths: [String]
        var tags: [String]
    }

    func run() async throws {
        let context = try CommandContext.load(options)
        let configuration = context.configuration
        if let backup, configuration.backup(named: backup) == nil {
            printError("Unknown backup \"\(backup)\" (known: \(configuration.backups.map(\.name).joined(separator: ", "))).")
            throw ExitCode.failure
        }
        var names = repository
        if names.isEmpty {
            names = backup.flatMap { configuration.backup(named: $0)?.repositories } ?? configuration.repositories.keys.sorted()
        }
        for name in names where configuration.repositories[name] == nil {
            printError("Unknown repository \"\(name)\" (known: \(configuration.repositories.keys.sorted().joined(separator: ", "))).")
            throw ExitCode.failure
        }
        let engine = try await context.openEngine()
        let filter = SnapshotFilter(tags: backup.map { [SnapshotTag.backup($0)] } ?? [])
        // Streamed: each snapshot is printed as it is decoded, never collected.
        var first = true
        var failures = 0
        if options.json { print("[", terminator: "") }
        for name in names {
            do {
                let driver = try engine.driver(forRepository: name)
                if !options.json { print("repository \(name):") }
                var count = 0
                for try await snapshot in driver.snapshots(filter) {
                    count += 1
                    if options.json {
                        let entry = Entry(id: snapshot.id, shortId: snapshot.shortID, repository: name, backup: snapshot.backup, job: snapshot.jobID, time: snapshot.time, host: snapshot.host, paths: snapshot.paths, tags: snapshot.tags)
                        print((first ? "\n" : ",\n") + (try JSONOutput.line(entry)), terminator: "")
                        first = false
                    } else {
                        print("  \(snapshot.shortID)  \(Formatting.localTime(snapshot.time))  \((snapshot.backup ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0))  \(snapshot.paths.joined(separator: ", "))")
                    }
                }
                if !options.json && count == 0 { print("  (no snapshots)") }
            } catch {
                failures += 1
                printError("\(error)")
            }
        }
        if options.json { print(first ? "]" : "\n]") }
        if failures > 0 { throw ExitCode.failure }
    }
}
