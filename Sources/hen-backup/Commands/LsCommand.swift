import ArgumentParser
import Foundation
import HenDrivers
import HenEngine

struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the files of a snapshot, below a path if given."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The repository.")
    var repository: String

    @Argument(help: "The snapshot id (full or short), or latest.")
    var snapshot: String

    @Argument(help: "A path inside the snapshot (default: everything).")
    var path: String?

    func run() async throws {
        let engine: any SnapshotSource
        if let daemon = try await Daemon.connect(options) {
            engine = DaemonSnapshotSource(daemon: daemon)
        } else {
            let context = try await CommandContext.load(options)
            guard context.configuration.repositories[repository] != nil else {
                printError(context.configuration.unknownRepository(repository).message)
                throw ExitCode.failure
            }
            engine = EngineSnapshotSource(engine: try await context.openEngine())
        }
        var first = true
        do {
            if options.json { print("[", terminator: "") }
            // From the engine's tree index (built on the first look at a snapshot), depth first and by name
            // as restic lists it; the path itself comes first when it is given.
            let start = path ?? "/"
            let top = try await engine.node(repository: repository, snapshot: snapshot, path: start)
            if path != nil, top.path != "/" { emit(top, timeZone: engine.timeZone, first: &first) }
            if top.kind == .directory { try await walk(top.path, engine: engine, first: &first) }
            if options.json { print(first ? "]" : "\n]") }
        } catch {
            if options.json { print(first ? "]" : "\n]") }
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    /// Prints a directory's entries page by page, descending into each subdirectory as it comes.
    private func walk(_ directory: String, engine: any SnapshotSource, first: inout Bool) async throws {
        var cursor: String?
        repeat {
            let page = try await engine.directory(repository: repository, snapshot: snapshot, path: directory, cursor: cursor)
            for node in page.items {
                emit(node, timeZone: engine.timeZone, first: &first)
                if node.kind == .directory { try await walk(node.path, engine: engine, first: &first) }
            }
            cursor = page.next
        } while cursor != nil
    }

    private func emit(_ node: Node, timeZone: TimeZone, first: inout Bool) {
        if options.json {
            print((first ? "\n" : ",\n") + ((try? JSONOutput.line(node)) ?? "{}"), terminator: "")
        } else {
            let size = node.kind == .file ? Formatting.bytes(node.size) : ""
            let link = node.linkTarget.map { " -> \($0)" } ?? ""
            print("\(Formatting.mode(node.mode, directory: node.kind == .directory, symlink: node.kind == .symlink))  \(size.padding(toLength: 10, withPad: " ", startingAt: 0))  \(Formatting.localTime(node.modificationTime, in: timeZone))  \(node.path)\(link)")
        }
        first = false
    }
}
