import Foundation
import HenDrivers
import HenHooks
import Synchronization
import Testing
@testable import HenEngine

/// A hook executor that records the phases it ran and fails the ones it is told to.
final class RecordingHooks: HookExecuting {
    private let state = Mutex<[(HookPhase, HookRunContext)]>([])
    let outcomes: [HookPhase: HookPhaseOutcome]

    init(outcomes: [HookPhase: HookPhaseOutcome] = [:]) {
        self.outcomes = outcomes
    }

    var phases: [HookPhase] { state.withLock { $0.map(\.0) } }
    func context(_ phase: HookPhase) -> HookRunContext? { state.withLock { $0.last { $0.0 == phase }?.1 } }

    func run(_ hooks: [HookDefinition], phase: HookPhase, context: HookRunContext, onStep: @escaping @Sendable (JobStep) -> Void) async -> HookPhaseOutcome {
        state.withLock { $0.append((phase, context)) }
        let outcome = outcomes[phase] ?? HookPhaseOutcome()
        onStep(JobStep(id: "hook:\(phase.rawValue):0", name: "\(phase.rawValue) hook", state: outcome.failed ? .failed : .succeeded, message: outcome.error))
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
        #expect(hooks.context(.after)?.snapshotIDs["local"] == record.results.first?.snapshotID)
        #expect(hooks.context(.finally)?.state == .succeeded)
        #expect(hooks.context(.before)?.hostname == "testhost")
    }

    @Test func aBreakingBeforeHookSkipsTheBackupAndRunsFailureAndFinally() async throws {
        let fixture = try fixture()
        defer { fixture.close() }
        let hooks = RecordingHooks(outcomes: [.before: HookPhaseOutcome(failed: true, broke: true, error: "The before hook dump.sh exited with status 2.")])
        let engine = try fixture.makeEngine(hooks: hooks)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .failed)
        #expect(record.error == "The before hook dump.sh exited with status 2.")
        #expect(hooks.phases == [.before, .failure, .finally])
        #expect(fixture.backend.calls("backup").isEmpty)
        #expect(hooks.context(.finally)?.state == .failed)
    }

    @Test func anIgnoredHookFailureIsAWarningAndAContinuingOneFailsTheJob() async throws {
        let fixture = try fixture()
        defer { fixture.close() }
        let hooks = RecordingHooks(outcomes: [
            .before: HookPhaseOutcome(warnings: ["The before hook notify failed (ignored)."]),
            .after: HookPhaseOutcome(failed: true, error: "The after hook upload-report failed."),
        ])
        let engine = try fixture.makeEngine(hooks: hooks)
        let record = try await engine.waitForCompletion(jobID: engine.backup("documents").id)
        #expect(record.state == .failed)
        #expect(record.warnings == ["The before hook notify failed (ignored)."])
        #expect(record.error == "The after hook upload-report failed.")
        #expect(fixture.backend.calls("backup").count == 1)
        #expect(hooks.phases == [.before, .after, .failure, .finally])
    }
}
