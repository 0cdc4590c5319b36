import ArgumentParser
import Foundation
import HenEngine

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What runs now, what waits, and when each backup, prune and check runs next, and why."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let status: EngineStatus
        if let daemon = try await Daemon.connect(options) {
            let data = try await Daemon.report { try await daemon.send("GET", "/api/v1/status") }
            if options.json {
                print(String(decoding: data, as: UTF8.self))
                return
            }
            status = try await Daemon.report { try daemon.decode(EngineStatus.self, data) }
            let identity = try await Daemon.report { try daemon.decode(DaemonIdentity.self, data) }
            print("Daemon \(daemon.baseURL.absoluteString): host \(identity.hostname), mode \(identity.mode), version \(identity.version), up since \(Formatting.localTime(identity.startedAt, in: daemon.timeZone))")
        } else {
            let engine = try await EngineCommandSupport.openEngine(options)
            status = await engine.status()
            if options.json {
                try EngineCommandSupport.printJSON(status)
                return
            }
        }
        print("Running (\(status.running.count), at most \(status.maxConcurrentJobs) at a time):")
        if status.running.isEmpty { print("  nothing") }
        for job in status.running {
            let record = job.record
            var parts = [record.id]
            if let step = record.steps.last(where: { $0.state == .running }) { parts.append(step.name) }
            if let fraction = record.progress?.fraction { parts.append("\(Int(fraction * 100))%") }
            parts.append("last report \(Int(job.secondsSinceLastReport))s ago")
            print("  \(record.operation) \(record.target): \(parts.joined(separator: ", "))")
        }
        print("Queued (\(status.queued.count)):")
        if status.queued.isEmpty { print("  nothing") }
        for record in status.queued {
            print("  \(record.operation) \(record.target): \(record.id), priority \(record.priority), \(record.trigger)")
        }
        print("Next runs:")
        if status.nextRuns.isEmpty { print("  nothing is scheduled") }
        for run in status.nextRuns {
            print("  \(run.operation) \(run.target): \(run.reason)")
        }
        if !status.watchers.isEmpty {
            print("Watchers:")
            for watcher in status.watchers {
                print("  " + Self.describe(watcher, now: status.now))
                if let degraded = watcher.degraded { print("    \(degraded)") }
            }
        }
    }

    /// Who answers `GET /status`.
    struct DaemonIdentity: Decodable {
        var hostname: String
        var mode: String
        var version: String
        var startedAt: Date
        enum CodingKeys: String, CodingKey {
            case hostname, mode, version
            case startedAt = "started_at"
        }
    }

    /// `documents: watching /srv/docs, /home/me (412 watches); last change 2m ago; backup queued in 25s (14 changes)`.
    static func describe(_ watcher: WatchStatus, now: Date) -> String {
        let shown = watcher.paths.prefix(3).joined(separator: ", ") + (watcher.paths.count > 3 ? " and \(watcher.paths.count - 3) more" : "")
        var parts = ["\(watcher.state.rawValue) \(shown) (\(watcher.watches) watches)"]
        if let change = watcher.lastChange { parts.append("last change \(Engine.relative(now.timeIntervalSince(change))) ago") }
        if let pending = watcher.pendingTrigger {
            parts.append("backup queued in \(Int(max(0, pending.timeIntervalSince(now)).rounded()))s (\(watcher.pendingChanges) changes)")
        } else if let last = watcher.lastTrigger {
            parts.append("last queued a backup \(Engine.relative(now.timeIntervalSince(last))) ago")
        }
        return "\(watcher.backup): " + parts.joined(separator: "; ")
    }
}
