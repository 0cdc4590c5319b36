import ArgumentParser
import Foundation
import HenAPI
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

    /// The repositories of the daemon, or of one backup there: as the daemon's configuration resolves them
    /// (its `/backups` answer names each backup's repositories).
    static func remoteRepositories(_ daemon: DaemonClient, backup: String?) async throws -> [String] {
        struct Named: Codable {
            var name: String
            var repositories: [String]?
        }
        var names: [String] = []
        var cursor: String?
        repeat {
            let page = try await daemon.get(API.Page<Named>.self, backup == nil ? "/api/v1/repositories" : "/api/v1/backups", query: ["cursor": cursor])
            if let backup {
                if let found = page.items.first(where: { $0.name == backup }) { return found.repositories ?? [] }
            } else {
                names += page.items.map(\.name)
            }
            cursor = page.nextCursor
        } while cursor != nil
        if let backup {
            throw DaemonClient.Failure(status: 404, code: "not_found", message: "The daemon has no backup named \(backup).")
        }
        return names
    }

    /// The configuration's rule (the engine's, for its own lists): the chosen repositories, else the
    /// backup's, else every one; an unknown name is one sentence and exit 1.
    static func localRepositories(_ configuration: Configuration, backup: String?, names given: [String]) throws -> [String] {
        do {
            return try configuration.repositories(ofBackup: backup, chosen: given.isEmpty ? nil : given)
        } catch {
            printError(error.message)
            throw ExitCode.failure
        }
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
                        // A snapshot as the API shows it.
                        let entry = API.Snapshot(RepositorySnapshot(repository: name, snapshot: snapshot))
                        print((first ? "\n" : ",\n") + (try JSONOutput.line(entry)), terminator: "")
                        first = false
                    } else {
                        print("  \(snapshot.shortID)  \(Formatting.localTime(snapshot.time, in: engine.timeZone))  \((snapshot.backup ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0))  \(snapshot.paths.joined(separator: ", "))")
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
