import Foundation
import HenDrivers
import HenHooks
import HenJSON
import HenProcess
import Logging
import Synchronization
import Testing
@testable import HenEngine

/// A hook executor that records the phases it ran and fails the ones it is told to.
final class RecordingHooks: HookExecuting {
    /// How a phase's single hook ends.
    enum Result: Sendable {
        case fails(HookFailurePolicy, String)
    }

    private let state = Mutex<[(HookPhase, HookRunContext)]>([])
    let results: [HookPhase: Result]

    init(_ results: [HookPhase: Result] = [:]) {
        self.results = results
    }

    var phases: [HookPhase] { state.withLock { $0.map(\.0) } }
    func context(_ phase: HookPhase) -> HookRunContext? { state.withLock { $0.last { $0.0 == phase }?.1 } }

    func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome {
        state.withLock { $0.append((phase, context)) }
        let date = Date(timeIntervalSince1970: 0)
        var step = HookStepResult(name: "\(phase.rawValue)[0] command /bin/true", index: 0, phase: phase, policy: .continue, start: date, end: date, outcome: .succeeded, attempts: 1)
        var outcome = HookPhaseOutcome(phase: phase)
        if case .fails(let policy, let message)? = results[phase] {
            step.policy = policy
            step.outcome = .failed
            step.error = message
            switch policy {
            case .ignore: outcome.warnings.append(message)
            case .continue: outcome.failed = true
            case .break: outcome.broke = true
            }
        }
        outcome.steps = [step]
        onStep(JobStep(step))
        return outcome
    }
}

@Suite struct EngineHookTests {
    private static let hook = HookDefinition(action: .command(CommandHook(invocation: .argv(["/bin/true"]))))

    private func fixture() throws -> EngineFixture {
        let hooks = Configuration.Backup.Hooks(before: [Self.hook], after: [Self.hook], failure: [Self.hook], finally: [Self.hook])
        let fixture = try EngineFixture(backups: [Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"], hooks: hooks)])
        fixture.backend.setInitialized("local")
        return fixture
    }

    @Test func hooksRunAroundASuccessfulBackupAndSeeItsSnapshot() async throws {
        let fixture = try fixture()
        defer { fixture.close() }
        let hooks = RecordingHooks()
        let engine = try fixture.makeEngine(hooks: hooks)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .succeeded)
        #expect(hooks.phases == [.before, .after, .finally])
        #expect(record.steps.map(\.id) == ["hook:before:0", "backup:local", "hook:after:0", "hook:finally:0"])
        #expect(hooks.context(.after)?.snapshotIDs == record.results.compactMap(\.snapshotID))
        #expect(hooks.context(.after)?.snapshotIDs.count == 1)
        #expect(hooks.context(.finally)?.state == "succeeded")
        #expect(hooks.context(.before)?.trigger == "api")
        #expect(hooks.context(.before)?.hostname == "testhost")
    }

    @Test func aBreakingBeforeHookSkipsTheBackupAndRunsFailureAndFinally() async throws {
        let fixture = try fixture()
        defer { fixture.close() }
        let hooks = RecordingHooks([.before: .fails(.break, "exited with status 2")])
        let engine = try fixture.makeEngine(hooks: hooks)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .failed)
        #expect(record.error == "Hook before[0] command /bin/true failed: exited with status 2")
        #expect(record.steps.first?.state == .failed)
        #expect(hooks.phases == [.before, .failure, .finally])
        #expect(fixture.backend.calls("backup").isEmpty)
        #expect(hooks.context(.finally)?.state == "failed")
    }

    @Test func anIgnoredHookFailureIsAWarningAndAContinuingOneFailsTheJob() async throws {
        let fixture = try fixture()
        defer { fixture.close() }
        let hooks = RecordingHooks([
            .before: .fails(.ignore, "The before hook notify failed (ignored)."),
            .after: .fails(.continue, "status 1"),
        ])
        let engine = try fixture.makeEngine(hooks: hooks)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .failed)
        #expect(record.warnings == ["The before hook notify failed (ignored)."])
        #expect(record.error == "Hook after[0] command /bin/true failed: status 1")
        #expect(record.steps.first?.state == .warning)
        #expect(fixture.backend.calls("backup").count == 1)
        #expect(hooks.phases == [.before, .after, .failure, .finally])
    }

    @Test func theRealHookRunnerRunsCommandHooksWithTheJobInTheirEnvironment() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        let output = "\(fixture.directory)/hooks.txt"
        func shell(_ script: String, _ policy: HookFailurePolicy = .continue) -> HookDefinition {
            HookDefinition(action: .command(CommandHook(invocation: .shell(script), timeout: 30)), onFailure: policy)
        }
        fixture.configuration.backups[0].hooks = Configuration.Backup.Hooks(
            before: [shell("echo \"before $HEN_JOB_ID $HEN_BACKUP $HEN_TRIGGER\" >> \(output)"), shell("exit 3", .ignore)],
            after: [shell("echo \"after $HEN_SNAPSHOT_IDS\" >> \(output)")],
            finally: [shell("echo \"finally $HEN_STATE\" >> \(output)")]
        )
        fixture.backend.setInitialized("local")
        let store = try JobStore(dataDirectory: fixture.configuration.dataDirectory)
        let engine = Engine(configuration: fixture.configuration, registry: fixture.backend.registry(), store: store, logger: fixture.logger, hooks: HookRunner(logger: fixture.logger))
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents", trigger: .cli).id)
        let snapshot = try #require(record.results.first?.snapshotID)
        #expect(record.state == .warning)
        #expect(record.warnings.count == 1)
        #expect(record.steps.map(\.id) == ["hook:before:0", "hook:before:1", "backup:local", "hook:after:0", "hook:finally:0"])
        #expect(record.steps.map(\.state) == [.succeeded, .warning, .succeeded, .succeeded, .succeeded])
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == ["before \(record.id) documents cli", "after \(snapshot)", "finally warning"])
    }

    /// A hook that prints a repository's password (given directly, or in its password file) does not put it
    /// in the job record, the job store or the log: one redactor, fed with every secret of the
    /// configuration, stands between what a job prints and anything Hen writes out (issue 12, item 6).
    @Test func aHookPrintingARepositorysPasswordLeavesItInNoRecordStoreOrLogLine() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        let password = "repository-password-\(UUID().uuidString)"
        let fromFile = "password-file-secret-\(UUID().uuidString)"
        let passwordFile = "\(fixture.directory)/usb-password"
        try (fromFile + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        fixture.configuration.repositories["local"]?.password = Secret(password)
        fixture.configuration.repositories["usb"]?.passwordFile = passwordFile
        fixture.configuration.backups[0].hooks = Configuration.Backup.Hooks(
            before: [HookDefinition(action: .command(CommandHook(invocation: .shell("echo \"pw=\(password)\"; cat \(passwordFile) >&2; exit 2"), timeout: 30)), onFailure: .continue)]
        )
        fixture.backend.setInitialized("local")
        let captured = JobLogIdentityTests.CapturedLines()
        let output = captured.output
        let secrets = ConfigurationSecrets(fixture.configuration)
        let logger = Logger(label: "hen.engine") { HenLogHandler(label: $0, format: .json, level: .debug, output: output, secrets: secrets) }
        let store = try JobStore(dataDirectory: fixture.configuration.dataDirectory)
        let engine = Engine(configuration: fixture.configuration, registry: fixture.backend.registry(), store: store, logger: logger, hooks: HookRunner(logger: logger), secrets: secrets)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        let stored = try #require(try await store.record(id: record.id))
        let written = [
            String(decoding: try HenJSON.encoder().encode(record), as: UTF8.self),
            String(decoding: try HenJSON.encoder().encode(stored), as: UTF8.self),
            captured.all.joined(),
        ]
        for text in written {
            #expect(!text.contains(password) && !text.contains(fromFile), "\(text.prefix(3_000))")
        }
        let hookOutput = try #require(record.steps.first?.hook?.output)
        #expect(hookOutput.contains("pw=***") && hookOutput.contains("***"), "\(hookOutput)")
        #expect(record.log.contains { $0.message.contains("pw=***") })
    }

    /// Command hooks run at the backup's `nice`; `finally` hooks run even when the job is cancelled (they
    /// release what `before` took), and see HEN_STATE=cancelled.
    @Test func finallyHooksRunWhenTheJobIsCancelledAndHooksRunAtTheBackupsNiceness() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        let output = "\(fixture.directory)/hooks.txt"
        func shell(_ script: String) -> HookDefinition {
            HookDefinition(action: .command(CommandHook(invocation: .shell(script), timeout: 30)), onFailure: .continue)
        }
        fixture.configuration.backups[0].nice = Niceness(cpu: 7)
        fixture.configuration.backups[0].hooks = Configuration.Backup.Hooks(
            before: [shell("echo \"before nice $(cut -d' ' -f19 /proc/$$/stat)\" >> \(output)"), shell("echo dumped 3 tables")],
            finally: [shell("echo \"finally $HEN_STATE\" >> \(output)")]
        )
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine(hooks: HookRunner(logger: fixture.logger))
        let job = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let record = try await engine.cancel(jobID: job.id)
        #expect(record.state == .cancelled)
        #expect(record.steps.map(\.id) == ["hook:before:0", "hook:before:1", "backup:local", "hook:finally:0"])
        // What a command hook prints is in the job's log.
        #expect(record.log.contains { $0.message.hasSuffix("shell echo dumped 3 tables: dumped 3 tables") }, "\(record.log.map(\.message))")
        #expect(record.steps.last?.state == .succeeded)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == ["before nice 7", "finally cancelled"])
    }

    /// A `finally` hook outlives a stop, but not a hurry (a second signal): then the daemon must not wait.
    @Test func aHurryStopsAFinallyHookThatTheStopLetRun() async throws {
        var fixture = try EngineFixture()
        defer { fixture.close() }
        let marker = "\(fixture.directory)/finally-started"
        fixture.configuration.backups[0].hooks = Configuration.Backup.Hooks(
            finally: [HookDefinition(action: .command(CommandHook(invocation: .shell("echo > \(marker); exec sleep 100"))), onFailure: .continue)]
        )
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine(hooks: HookRunner(logger: fixture.logger))
        let job = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let cancelling = Task { try await engine.cancel(jobID: job.id) }
        for _ in 0..<1_000 where !FileManager.default.fileExists(atPath: marker) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(FileManager.default.fileExists(atPath: marker))
        engine.hurryStops()
        let record = try await cancelling.value
        #expect(record.state == .cancelled)
        #expect(record.steps.last?.id == "hook:finally:0")
        #expect(record.steps.last?.state == .cancelled)
    }

    @Test func pruneAndCheckJobsRunTheirOwnHooks() async throws {
        var fixture = try EngineFixture(backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"], retention: RetentionPolicy(keepLast: 3)),
        ])
        defer { fixture.close() }
        let output = "\(fixture.directory)/hooks.txt"
        func shell(_ script: String) -> HookDefinition {
            HookDefinition(action: .command(CommandHook(invocation: .shell(script), timeout: 30)), onFailure: .continue)
        }
        fixture.configuration.backups[0].hooks = Configuration.Backup.Hooks(before: [shell("echo backup-hook >> \(output)")])
        fixture.configuration.backups[0].prune.hooks = Configuration.Backup.Hooks(
            before: [shell("echo \"prune before $HEN_OPERATION $HEN_BACKUP\" >> \(output)")],
            finally: [shell("echo \"prune finally $HEN_STATE\" >> \(output)")]
        )
        fixture.configuration.repositories["local"]?.check.hooks = Configuration.Backup.Hooks(
            after: [shell("echo \"check after $HEN_OPERATION $HEN_REPOSITORIES\" >> \(output)")]
        )
        fixture.backend.setInitialized("local")
        let store = try JobStore(dataDirectory: fixture.configuration.dataDirectory)
        let engine = Engine(configuration: fixture.configuration, registry: fixture.backend.registry(), store: store, logger: fixture.logger, hooks: HookRunner(logger: fixture.logger))
        let prune = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .cli)).id)
        #expect(prune.state == .succeeded)
        #expect(prune.steps.map(\.id) == ["hook:before:0", "prune:local", "hook:finally:0"])
        let check = try await engine.waitForCompletion(jobID: engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .cli)).id)
        #expect(check.state == .succeeded)
        #expect(check.steps.map(\.id) == ["check:local", "hook:after:0"])
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        // The backup's own hooks are not the prune's.
        #expect(lines == ["prune before prune documents", "prune finally succeeded", "check after check local"])
    }
}
