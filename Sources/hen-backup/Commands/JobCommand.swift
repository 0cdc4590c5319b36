import ArgumentParser
import Foundation
import HenEngine

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Show one job: its steps, results, warnings, error and log."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The job's id.")
    var id: String

    @Flag(name: .long, help: "Print the job's log as it grows until the job ends, then exit with its outcome (0, 1, or 3 for warnings).")
    var follow = false

    func run() async throws {
        let record: JobRecord
        let timeZone: TimeZone
        if let daemon = try await Daemon.connect(options) {
            timeZone = daemon.timeZone
            if follow {
                try await JobRunning.follow(daemon, id: id, options: options, printLog: true)
                return
            }
            record = try await Daemon.report { try await daemon.get(JobRecord.self, "/api/v1/jobs/\(id)") }
        } else {
            let engine = try await EngineCommandSupport.openEngine(options)
            timeZone = engine.configuration.timeZone
            guard let found = try await EngineCommandSupport.report({ try await engine.job(id: id) }) else {
                printError("There is no job \(id).")
                throw ExitCode.failure
            }
            if follow {
                try await JobRunning.followStored(engine, record: found, options: options)
                return
            }
            record = found
        }
        if options.json {
            try EngineCommandSupport.printJSON(record)
            return
        }
        Self.show(record, timeZone: timeZone)
    }

    static func show(_ record: JobRecord, timeZone: TimeZone) {
        print("Job \(record.id): \(record.operation) \(record.target)")
        print("  state:     \(record.state.rawValue)")
        print("  trigger:   \(record.trigger)")
        print("  priority:  \(record.priority)")
        print("  queued:    \(Formatting.localTime(record.queuedAt, in: timeZone))")
        print("  started:   \(Formatting.localTime(record.startedAt, in: timeZone))")
        print("  ended:     \(Formatting.localTime(record.endedAt, in: timeZone))  (took \(EngineCommandSupport.duration(of: record)))")
        if !record.repositories.isEmpty { print("  repositories: \(record.repositories.joined(separator: ", "))") }
        if let error = record.error { print("  error:     \(error)") }
        if let progress = record.progress, record.state == .running {
            let percent = progress.fraction.map { "\(Int($0 * 100))%" } ?? "?"
            print("  progress:  \(percent), \(progress.filesDone.map(String.init) ?? "?") files, \(progress.bytesDone.map(String.init) ?? "?") bytes")
        }
        if !record.steps.isEmpty {
            print("Steps:")
            for step in record.steps {
                var took = ""
                if let start = step.startedAt, let end = step.endedAt { took = " (\(Formatting.duration(seconds: end.timeIntervalSince(start))))" }
                print("  \(step.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(step.name)\(took)\(step.message.map { ": \($0)" } ?? "")")
                if let hook = step.hook {
                    var facts = ["on_failure: \(hook.policy)"]
                    if let code = hook.exitCode { facts.append("exit code \(code)") }
                    if let signal = hook.signal { facts.append("signal \(signal)") }
                    if let status = hook.httpStatus { facts.append("HTTP \(status)") }
                    if hook.attempts > 1 { facts.append("\(hook.attempts) attempts") }
                    if hook.timedOut { facts.append("timed out") }
                    print("            \(facts.joined(separator: ", "))")
                    for line in hook.output.split(separator: "\n", omittingEmptySubsequences: false).prefix(20) where !hook.output.isEmpty {
                        print("            | \(line)")
                    }
                    if hook.outputTruncated || hook.output.split(separator: "\n").count > 20 { print("            | … (more in --json)") }
                }
            }
        }
        if !record.results.isEmpty {
            print("Results:")
            for result in record.results {
                var parts: [String] = []
                if let snapshot = result.snapshotID { parts.append("snapshot \(snapshot.prefix(8))") }
                if let files = result.filesNew { parts.append("\(files) new files") }
                if let added = result.bytesAdded { parts.append("\(added) bytes added") }
                if let removed = result.snapshotsRemoved { parts.append("\(removed.count) snapshots removed") }
                if let restored = result.filesRestored { parts.append("\(restored) files restored") }
                if parts.isEmpty, let message = record.steps.last(where: { $0.repository == result.repository })?.message { parts.append(message) }
                print("  \(result.repository): \(parts.joined(separator: ", "))")
            }
        }
        if !record.warnings.isEmpty {
            print("Warnings:")
            for warning in record.warnings { print("  \(warning)") }
        }
        if !record.log.isEmpty {
            print("Log:")
            for line in record.log { print("  \(Formatting.localTime(line.time, in: timeZone)) \(line.level.rawValue): \(line.message)") }
        }
    }
}
