import ArgumentParser
import HenEngine

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job: a queued one is removed, a running one is stopped cleanly."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The job's id.")
    var id: String

    func run() async throws {
        let engine = try await EngineCommandSupport.openEngine(options)
        let record = try await EngineCommandSupport.report { try await engine.cancel(jobID: id) }
        if options.json {
            try EngineCommandSupport.printJSON(record)
        } else {
            print("Job \(record.id) (\(record.operation) \(record.target)): \(record.state.rawValue).")
        }
    }
}
