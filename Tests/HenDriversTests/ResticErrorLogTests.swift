import Foundation
@testable import HenDrivers
import HenProcess
import Logging
import Synchronization
import Testing

/// restic's JSON error messages reach the log as fields, besides becoming the job's warnings.
@Suite struct ResticErrorLogTests {
    /// Keeps every entry logged through it.
    struct CapturingHandler: LogHandler {
        let box: Box
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            box.entries.withLock { $0.append((event.level, "\(event.message)", merged)) }
        }
        init(_ box: Box) { self.box = box }
    }

    final class Box: Sendable {
        let entries = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
    }

    @Test func aResticErrorMessageIsLoggedWithItsFields() throws {
        let box = Box()
        var logger = Logger(label: "hen.driver") { _ in CapturingHandler(box) }
        logger[metadataKey: "job_id"] = "J1"
        let driver = try ResticDriver(
            repository: RepositoryTarget(name: "local", location: "/nonexistent/repo", password: Secret("pw")),
            context: DriverContext(hostname: "test-host", logger: logger)
        )
        var report = ResticRunReport()
        let warnings = Mutex<[String]>([])
        let line = #"{"message_type":"error","error":{"Op":"open","Path":"/data/secret.db","Err":13},"during":"archival","item":"/data/secret.db"}"#
        driver.follow(.stderr(line), into: &report, events: { event in
            if case .warning(let text) = event { warnings.withLock { $0.append(text) } }
        })
        #expect(report.warnings.count == 1)
        #expect(warnings.withLock { $0 } == report.warnings)
        let entries = box.entries.withLock { $0 }
        let entry = try #require(entries.first { $0.1 == "restic reported an error" })
        #expect(entry.0 == .warning)
        #expect(entry.2["during"] == "archival")
        #expect(entry.2["item"] == "/data/secret.db")
        #expect(entry.2["restic_message_type"] == "error")
        #expect(entry.2["job_id"] == "J1")
        #expect(entry.2["error"].map { "\($0)".isEmpty } == false)
    }
}
