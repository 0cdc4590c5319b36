import Foundation
import HenDrivers
import HenEngine
import HenTestSupport
import Logging
import Testing

/// The hook policy matrix through the real engine, the real HookRunner and the real restic: what each
/// `on_failure` does to the backup itself (is there a snapshot?) and to the job's state.
@Suite struct EngineHookPolicyResticTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var phase: String
        var policy: String
        var state: JobState
        var snapshots: Int
        var testDescription: String { "\(policy) × \(phase)" }
    }

    static let cases: [Case] = [
        Case(phase: "before", policy: "break", state: .failed, snapshots: 0),
        Case(phase: "before", policy: "continue", state: .failed, snapshots: 1),
        Case(phase: "before", policy: "ignore", state: .warning, snapshots: 1),
        Case(phase: "after", policy: "break", state: .failed, snapshots: 1),
        Case(phase: "after", policy: "continue", state: .failed, snapshots: 1),
        Case(phase: "after", policy: "ignore", state: .warning, snapshots: 1),
    ]

    @Test(arguments: cases)
    func aFailingHook(_ policyCase: Case) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-hook-policy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: "\(directory)/source", withIntermediateDirectories: true)
        try "rows\n".write(toFile: "\(directory)/source/db.sql", atomically: true, encoding: .utf8)
        let yaml = """
            hostname: policy-host
            data_dir: \(directory)/data
            executables: { restic: \(Restic.path) }
            repositories:
              local:
                location: \(directory)/repo
                password: not-a-real-secret
            backups:
              db:
                paths: [\(directory)/source]
                repositories: [local]
                hooks:
                  \(policyCase.phase):
                    - shell: "echo dump failed >&2; exit 7"
                      on_failure: \(policyCase.policy)
                  failure:
                    - shell: "touch \(directory)/failure-ran"
                  finally:
                    - shell: "touch \(directory)/finally-ran"
            """
        let configuration = try ConfigurationLoader(environment: [:]).load(yaml: yaml, file: "config.yml", sourcePath: "\(directory)/config.yml")
        let engine = try await Engine.open(configuration: configuration, registry: .standard, logger: Logger(label: "hen.test"))
        let queued = try await engine.submit(JobRequest(operation: .backup(backup: "db", repositories: nil), trigger: .cli))
        let record = try await engine.waitForCompletion(jobID: queued.id)

        #expect(record.state == policyCase.state, "\(record.error ?? "")")
        let hookStep = try #require(record.steps.first { $0.id == "hook:\(policyCase.phase):0" })
        #expect(hookStep.hook?.exitCode == 7)
        #expect(hookStep.hook?.output.contains("dump failed") == true)
        let backupStep = record.steps.first { $0.id == "backup:local" }
        #expect((backupStep?.state == .succeeded) == (policyCase.snapshots == 1))
        // `break` before the backup: restic never ran, so not even the repository exists (auto_init waits
        // for the first backup).
        let driver = try engine.driver(forRepository: "local")
        var snapshots = 0
        if try await driver.isInitialized() {
            for try await _ in driver.snapshots(SnapshotFilter()) { snapshots += 1 }
        }
        #expect(snapshots == policyCase.snapshots)
        #expect(FileManager.default.fileExists(atPath: "\(directory)/failure-ran") == (policyCase.state == .failed))
        #expect(FileManager.default.fileExists(atPath: "\(directory)/finally-ran"))
        if policyCase.policy == "ignore" {
            #expect(record.warnings.contains { $0.contains("exit") || $0.contains("7") })
        }
    }
}
