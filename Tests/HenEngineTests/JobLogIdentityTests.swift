import Foundation
import HenDrivers
import Logging
import Synchronization
import Testing
@testable import HenEngine

/// Every line a job logs, through the engine, the runner, the hooks and the real restic driver, carries the
/// job's identity; none carries a secret.
@Suite struct JobLogIdentityTests {
    /// Collects every line a ``HenLogHandler`` writes.
    final class CapturedLines: Sendable {
        private let lines = Mutex<[String]>([])
        var output: LogOutput { LogOutput { line in self.lines.withLock { $0.append(line) } } }
        var all: [String] { lines.withLock { $0 } }
    }

    static let repositoryPassword = "pw-in-env-7f3a91"
    static let filePassword = "pw-in-file-c28e44"
    static let headerToken = "hook-token-5bd019"
    static let repositoryEnvValue = "repo-env-value-e61f27"
    static let hookEnvValue = "hook-env-value-90ac3d"

    @Test func everyLineOfARealResticJobCarriesItsIdentityAndNoSecret() async throws {
        let directory = try ConfigTempDirectory()
        try directory.write("data/documents/a.txt", "alpha\n")
        try directory.write("data/documents/sub/b.txt", String(repeating: "beta\n", count: 1000))
        try directory.write("password", Self.filePassword + "\n")
        let yaml = """
            hostname: testhost
            data_dir: ./state
            log: { level: debug }
            repositories:
              first:
                location: ./repos/first
                password: ${REPO_PASSWORD}
                env: { HEN_TEST_EXTRA: "${REPO_ENV}" }
              second:
                location: ./repos/second
                password_file: ./password
            backups:
              documents:
                paths: [./data/documents]
                repositories: [first, second]
                hooks:
                  before:
                    - command: ["/bin/true"]
                      env: { HOOK_SECRET: "${HOOK_ENV}" }
                  after:
                    - http: { url: "http://127.0.0.1:9/notify", method: POST, headers: { Authorization: "Bearer ${HOOK_TOKEN}" }, timeout: 5s, retries: 0 }
                      on_failure: ignore
            """
        let configuration = try directory.load(yaml, environment: [
            "REPO_PASSWORD": Self.repositoryPassword, "REPO_ENV": Self.repositoryEnvValue,
            "HOOK_TOKEN": Self.headerToken, "HOOK_ENV": Self.hookEnvValue,
        ])
        let captured = CapturedLines()
        let output = captured.output
        let logger = Logger(label: "hen.engine") { HenLogHandler(label: $0, format: .json, level: .debug, output: output) }
        let engine = try await Engine.open(configuration: configuration, registry: .standard, logger: logger)

        let queued = try await engine.submit(JobRequest(operation: .backup(backup: "documents", repositories: nil), trigger: .schedule("every 1h")))
        let record = try await engine.waitForCompletion(jobID: queued.id)
        #expect(record.state == .warning, "the after hook fails (ignored), so the job ends with a warning: \(record.error ?? "")")
        #expect(record.results.compactMap(\.snapshotID).count == 2)
        await engine.shutdown(grace: .zero)

        let lines = captured.all
        #expect(lines.count > 10)
        var components: Set<String> = []
        var steps: Set<String> = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            // Lines of this job only: nothing else runs in this engine.
            #expect(object["job_id"] as? String == record.id, "line without the job id: \(line)")
            #expect(object["trigger"] as? String == "schedule", "line without the trigger: \(line)")
            #expect(object["schedule"] as? String == "every 1h", "line without the schedule: \(line)")
            #expect(object["operation"] as? String == "backup", "line without the operation: \(line)")
            #expect(object["backup"] as? String == "documents", "line without the backup: \(line)")
            if let step = object["step"] as? String {
                steps.insert(step)
                if step.hasPrefix("backup:") || step.hasPrefix("init:") {
                    #expect(object["repository"] as? String == String(step.split(separator: ":")[1]), "step line without its repository: \(line)")
                }
            }
            components.insert(object["component"] as? String ?? "")
            if object["component"] as? String == "driver" {
                #expect(object["driver"] as? String == "restic", "driver line without its driver: \(line)")
            }
            for secret in [Self.repositoryPassword, Self.filePassword, Self.headerToken, Self.repositoryEnvValue, Self.hookEnvValue] {
                #expect(!line.contains(secret), "a secret in the log: \(line)")
            }
        }
        #expect(components.isSuperset(of: ["engine", "driver", "hooks"]), "components seen: \(components)")
        #expect(steps.isSuperset(of: ["init:first", "backup:first", "init:second", "backup:second", "hook:before:0", "hook:after:0"]), "steps seen: \(steps)")
        // The driver's own lines (restic's invocations at debug) carry the step they belong to.
        #expect(lines.contains { $0.contains(#""component":"driver""#) && $0.contains(#""step":"backup:second""#) })
    }

    @Test func componentLevelsApplyToLinesOfThatComponent() throws {
        let captured = CapturedLines()
        let output = captured.output
        var logger = Logger(label: "hen.engine") { HenLogHandler(label: $0, format: .json, level: .info, levels: ["driver": .debug], output: output) }
        logger[metadataKey: "job_id"] = "J1"
        logger.debug("engine detail")
        logger.info("engine info")
        var driverLogger = logger
        driverLogger[metadataKey: "component"] = "driver"
        driverLogger.debug("driver detail")
        let lines = captured.all
        #expect(lines.count == 2)
        #expect(lines.contains { $0.contains("engine info") && $0.contains(#""component":"engine""#) })
        #expect(lines.contains { $0.contains("driver detail") && $0.contains(#""component":"driver""#) && $0.contains(#""job_id":"J1""#) })
    }
}
