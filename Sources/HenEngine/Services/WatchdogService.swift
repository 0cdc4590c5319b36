import Foundation
import Logging
import ServiceLifecycle

/// Every `status_interval`, logs one status line (queue length, running jobs with their progress and how
/// long since their driver last reported) and warns jobs silent for `stall_warning`.
public struct WatchdogService: Service {
    let engine: Engine
    let clock: any Clock<Duration>
    let logger: Logger

    public init(engine: Engine, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.engine = engine
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let interval = engine.configuration.statusInterval
        // A graceful shutdown cancels the sleep: that is the normal end, not an error.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await clock.sleep(for: interval)
                    let status = await engine.watchdogTick()
                    logger.info("\(Self.line(status))", metadata: [
                        "queued": "\(status.queued.count)", "running": "\(status.running.count)",
                    ])
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// `queue 2, running 1: backup documents (backup to local-disk 42%, 1200 files, last report 3s ago)`.
    public static func line(_ status: EngineStatus) -> String {
        let running = status.running.map { job -> String in
            var parts: [String] = []
            if let step = job.record.steps.last(where: { $0.state == .running }) { parts.append(step.name) }
            if let fraction = job.record.progress?.fraction { parts.append("\(Int(fraction * 100))%") }
            if let files = job.record.progress?.filesDone { parts.append("\(files) files") }
            parts.append("last report \(Engine.relative(job.secondsSinceLastReport)) ago")
            return "\(job.record.operation) \(job.record.target) (\(parts.joined(separator: ", ")))"
        }
        let next = status.nextRuns.first.map { "; next: \($0.operation) \($0.target): \($0.reason)" } ?? ""
        return "queue \(status.queued.count), running \(status.running.count)"
            + (running.isEmpty ? "" : ": " + running.joined(separator: "; ")) + next
    }
}
