import ArgumentParser
import Foundation
import HenAPI
import HenEngine
import Logging

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List jobs, newest first."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Only jobs in this state (queued, running, succeeded, warning, failed, cancelled, timed_out, interrupted; repeatable).")
    var state: [JobState] = []

    @Option(name: .long, help: "Only jobs of this backup.")
    var backup: String?

    @Option(name: .long, help: "At most this many jobs.")
    var limit: Int = 50

    func run() async throws {
        let records: [JobRecord]
        let timeZone: TimeZone
        if let daemon = try await Daemon.connect(options) {
            timeZone = daemon.timeZone
            let query: [String: String?] = [
                "state": state.isEmpty ? nil : state.map(\.rawValue).joined(separator: ","), "backup": backup, "limit": String(limit),
            ]
            records = try await Daemon.report { try await daemon.get(API.Page<JobRecord>.self, "/api/v1/jobs", query: query).items }
        } else {
            let engine = try await EngineCommandSupport.openEngine(options)
            timeZone = engine.configuration.timeZone
            records = try await EngineCommandSupport.report { try await engine.jobSummaries(JobFilter(states: state, backup: backup, limit: limit)) }
        }
        if options.json {
            // As the API lists them: each job's log left empty; `hen-backup job ID --json` has it.
            try JSONOutput.print(records.map(\.summary))
            return
        }
        guard !records.isEmpty else {
            print("No jobs.")
            return
        }
        let rows = records.map { record in
            [
                record.id, record.state.rawValue, "\(record.operation) \(record.target)", record.trigger.kind, record.priority.description,
                Formatting.localTime(record.queuedAt, in: timeZone), EngineCommandSupport.duration(of: record), record.error ?? (record.warnings.isEmpty ? "" : "\(record.warnings.count) warning(s)"),
            ]
        }
        EngineCommandSupport.printTable(header: ["ID", "STATE", "JOB", "TRIGGER", "PRIORITY", "QUEUED", "TOOK", "NOTE"], rows: rows)
    }
}

extension JobState: ExpressibleByArgument {}

/// What the job commands (`daemon`, `jobs`, `job`, `cancel`, `status`) share: opening the engine
/// in-process, printing.
enum EngineCommandSupport {
    /// Loads the configuration (with logging set up) and opens the engine on its job store, in-process.
    static func openEngine(_ options: GlobalOptions, component: String = "cli", exclusiveAs role: String? = nil) async throws -> Engine {
        try await CommandContext.load(options, component: component).openEngine(exclusiveAs: role)
    }

    /// Runs `body`; an engine error is printed as its one sentence and exits 1.
    static func report<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as EngineError {
            printError(error.message)
            throw ExitCode.failure
        }
    }

    /// How long a job ran (or has been running).
    static func duration(of record: JobRecord) -> String {
        guard let started = record.startedAt else { return "-" }
        return Formatting.duration(seconds: (record.endedAt ?? Date()).timeIntervalSince(started))
    }

    static func printTable(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
