import ArgumentParser
import HenAPI
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
        let record: JobRecord
        if let daemon = try await Daemon.connect(options) {
            record = try await Daemon.report {
                try daemon.decode(API.JobAccepted.self, try await daemon.send("POST", "/api/v1/jobs/\(id)/cancel")).job
            }
        } else {
            // Cancelling writes the job's record: not beside a process that runs jobs on the same store.
            let engine = try await EngineCommandSupport.openEngine(options, exclusiveAs: "cancel")
            record = try await EngineCommandSupport.report { try await engine.cancel(jobID: id) }
        }
        if options.json {
            try JSONOutput.print(record)
        } else {
            if record.state.isFinished {
                print("Job \(record.id) (\(record.operation) \(record.target)): \(record.state.rawValue).")
            } else {
                // The daemon answers after 10 seconds while a job still finishes its cleanup.
                print("Job \(record.id) (\(record.operation) \(record.target)) is stopping cleanly; `hen-backup job \(record.id)` shows when it has stopped.")
            }
        }
    }
}
