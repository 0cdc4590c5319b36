import ArgumentParser
import Foundation
import HenAPI
import HenDrivers
import HenEngine

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore a sample of the backup's latest snapshots into a private directory and compare them with the sources."
    )

    @OptionGroup var job: BackupJobArguments

    func run() async throws {
        try await job.run(route: "drill", operation: .drill(backup: job.name))
    }
}

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed from one snapshot to another: added (+), removed (-) and modified (M) paths."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The repository.")
    var repository: String

    @Argument(help: "The snapshot id (full or short), or latest.")
    var snapshot: String

    @Option(name: .long, help: "The snapshot to compare with: parent (the backup's previous snapshot, the default) or an id.")
    var against = "parent"

    @Option(name: .long, help: "Only changes of this kind: added, removed or modified.")
    var change: String?

    func run() async throws {
        var kind: SnapshotChange.Kind?
        if let change {
            guard let parsed = SnapshotChange.Kind(rawValue: change) else {
                printError("--change \(change) is not a kind of change; use added, removed or modified.")
                throw ExitCode.validationFailure
            }
            kind = parsed
        }
        do {
            let daemon = try await Daemon.connect(options)
            let engine = daemon == nil ? try await CommandContext.load(options).openEngine() : nil
            var cursor: String?
            var first = true
            repeat {
                let page: API.SnapshotDiff
                if let daemon {
                    page = try await daemon.get(API.SnapshotDiff.self, "/api/v1/repositories/\(repository)/snapshots/\(snapshot)/diff", query: [
                        "against": against, "change": kind?.rawValue, "cursor": cursor, "limit": String(Engine.maxPageSize),
                    ])
                } else if let engine {
                    page = API.SnapshotDiff(try await engine.snapshotDiff(repository: repository, snapshot: snapshot, against: against, kind: kind, limit: Engine.maxPageSize, cursor: cursor))
                } else {
                    return
                }
                if first { printHeader(page) }
                first = false
                for item in page.items {
                    if options.json {
                        print((try? JSONOutput.line(item)) ?? "{}")
                    } else {
                        let mark = switch item.change {
                        case .added: "+"
                        case .removed: "-"
                        case .modified: "M"
                        }
                        print("\(mark)  \(item.path)\(item.type == .directory ? "/" : "")")
                    }
                }
                cursor = page.nextCursor
            } while cursor != nil
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    private func printHeader(_ page: API.SnapshotDiff) {
        let text = "\(page.snapshot.shortID) against \(page.against.shortID) in \(repository): \(page.added) added, \(page.removed) removed, \(page.modified) modified"
            + (page.bytesAdded.map { ", \(Formatting.bytes($0)) added" } ?? "") + (page.bytesRemoved.map { ", \(Formatting.bytes($0)) removed" } ?? "")
        // With --json, stdout holds one JSON object per changed path; the totals go to stderr.
        if options.json { printError(text) } else { print(text) }
    }
}

struct AlarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarm",
        abstract: "The backups' mass-deletion alarms.",
        subcommands: [AlarmAckCommand.self]
    )
}

struct AlarmAckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledge a backup's mass-deletion alarm: its prunes run again."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The backup's name in the configuration.")
    var name: String

    func run() async throws {
        let message: String
        do {
            if let daemon = try await Daemon.connect(options) {
                message = try daemon.decode(API.AlarmAcknowledged.self, try await daemon.send("POST", "/api/v1/backups/\(name)/alarm/ack")).alarm.message
            } else {
                let engine = try await CommandContext.load(options).openEngine()
                message = try await engine.acknowledgeAlarm(backup: name).message
            }
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        print("Acknowledged: \(message) The prunes of \(name) run again.")
    }
}
