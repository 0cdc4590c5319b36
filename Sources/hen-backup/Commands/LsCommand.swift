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

    @Argument(help: "The snapshot id (full or short).")
    var snapshot: String

    @Argument(help: "A path inside the snapshot (default: everything).")
    var path: String?

    func run() async throws {
        let context = try CommandContext.load(options)
        guard context.configuration.repositories[repository] != nil else {
            printError("Unknown repository \"\(repository)\" (known: \(context.configuration.repositories.keys.sorted().joined(separator: ", "))).")
            throw ExitCode.failure
        }
        let engine = try await context.openEngine()
        do {
            let driver = try engine.driver(forRepository: repository)
            var first = true
            if options.json { print("[", terminator: "") }
            for try await node in driver.list(snapshot: snapshot, path: path) {
                if options.json {
                    print((first ? "\n" : ",\n") + (try JSONOutput.line(node)), terminator: "")
                } else {
                    let size = node.kind == .file ? Formatting.bytes(node.size) : ""
                    let link = node.linkTarget.map { " -> \($0)" } ?? ""
                    print("\(Formatting.mode(node.mode, directory: node.kind == .directory, symlink: node.kind == .symlink))  \(size.padding(toLength: 10, withPad: " ", startingAt: 0))  \(Formatting.localTime(node.modificationTime))  \(node.path)\(link)")
                }
                first = false
            }
            if options.json { print(first ? "]" : "\n]") }
        } catch {
            if options.json { print("]") }
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
