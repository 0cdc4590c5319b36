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

    @Flag(name: .long, help: "Read the lists from the repositories instead of the cache.")
    var refresh = false

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
        let engine: any SnapshotSource
        var names = repository
        if let daemon = try await Daemon.connect(options) {
            engine = DaemonSnapshotSource(daemon: daemon)
            if names.isEmpty {
                // The daemon's configuration decides: its repositories (or the backup's).
                names = try await Daemon.report { try await Self.remoteRepositories(daemon, backup: backup) }
            }
        } else {
            let context = try await CommandContext.load(options)
            names = try Self.localRepositories(context.configuration, backup: backup, names: names)
            engine = EngineSnapshotSource(engine: try await context.openEngine())
        }
        try await list(names, engine: engine)
    }

    /// The repositories of the daemon, or of one backup there.
    static func remoteRepositories(_ daemon: DaemonClient, backup: String?) async throws -> [String] {
        struct Repository: Decodable {
            var name: String
            var backups: [String]
        }
        var names: [String] = []
        var cursor: String?
        repeat {
            let page = try await daemon.get(RemotePage<Repository>.self, "/api/v1/repositories", query: ["cursor": cursor])
            names += page.items.filter { item in backup.map { item.backups.contains($0) } ?? true }.map(\.name)
            cursor = page.nextCursor
        } while cursor != nil
        if let backup, names.isEmpty {
            throw DaemonClient.Failure(status: 404, code: "not_found", message: "The daemon has no backup named \(backup).")
        }
        return names
    }

    static func localRepositories(_ configuration: Configuration, backup: String?, names given: [String]) throws -> [String] {
        var names = given
        if let backup, configuration.backup(named: backup) == nil {
            printError("Unknown backup \"\(backup)\" (known: \(configuration.backups.map(\.name).joined(separator: ", "))).")
            throw ExitCode.failure
        }
        if names.isEmpty {
            names = backup.flatMap { configuration.backup(named: $0)?.repositories } ?? configuration.repositories.keys.sorted()
        }
        for name in names where configuration.repositories[name] == nil {
            printError("Unknown repository \"\(name)\" (known: \(configuration.repositories.keys.sorted().joined(separator: ", "))).")
            throw ExitCode.failure
        }
        return names
    }

    func list(_ names: [String], engine: any SnapshotSource) async throws {
        var first = true
        var failures = 0
        if options.json { print("[", terminator: "") }
        for name in names {
            do {
                // The engine's cached list (refreshed after every job that changes it), newest first:
                // one repository's list is small, so it is reversed here to print oldest first as always.
                var snapshots: [Snapshot] = []
                var cursor: String?
                repeat {
                    let page = try await engine.snapshots(backup: backup, repository: name, cursor: cursor, refresh: refresh && cursor == nil)
                    snapshots += page.items
                    cursor = page.next
                } while cursor != nil
                if !options.json { print("repository \(name):") }
                for snapshot in snapshots.reversed() {
                    if options.json {
                        let entry = Entry(id: snapshot.id, shortId: snapshot.shortID, repository: name, backup: snapshot.backup, job: snapshot.jobID, time: snapshot.time, host: snapshot.host, paths: snapshot.paths, tags: snapshot.tags)
                        print((first ? "\n" : ",\n") + (try JSONOutput.line(entry)), terminator: "")
                        first = false
                    } else {
                        print("  \(snapshot.shortID)  \(Formatting.localTime(snapshot.time))  \((snapshot.backup ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0))  \(snapshot.paths.joined(separator: ", "))")
                    }
                }
                if !options.json && snapshots.isEmpty { print("  (no snapshots)") }
            } catch {
                failures += 1
                printError("\(error)")
            }
        }
        if options.json { print(first ? "]" : "\n]") }
        if failures > 0 { throw ExitCode.failure }
    }
}
