import Foundation
import HenProcess
import Testing
@testable import HenHooks

@Suite("Failure policies: ignore, continue, break in before and after")
struct HookRunnerPolicyTests {
    static let matrix: [(HookFailurePolicy, HookPhase)] = [
        (.ignore, .before), (.continue, .before), (.break, .before),
        (.ignore, .after), (.continue, .after), (.break, .after),
    ]

    @Test(arguments: matrix)
    func failingCommandHook(policy: HookFailurePolicy, phase: HookPhase) async throws {
        let hooks = [
            HookDefinition(action: .command(CommandHook(invocation: .argv(["true"]))), onFailure: .break),
            HookDefinition(action: .command(CommandHook(invocation: .shell("echo failing; exit 1"))), onFailure: policy),
            HookDefinition(action: .command(CommandHook(invocation: .argv(["true"]))), onFailure: .continue),
        ]
        let steps = StepRecorder()
        let outcome = await testRunner().run(hooks, phase: phase, context: testContext()) { steps.record($0) }
        check(outcome, steps: steps.all, policy: policy, phase: phase)
    }

    @Test(arguments: matrix)
    func failingHTTPHook(policy: HookFailurePolicy, phase: HookPhase) async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let hooks = [
            HookDefinition(action: .http(HTTPHook(url: server.url("/first"))), onFailure: .break),
            HookDefinition(action: .http(HTTPHook(url: server.url("/status/500"))), onFailure: policy),
            HookDefinition(action: .http(HTTPHook(url: server.url("/third"))), onFailure: .continue),
        ]
        let steps = StepRecorder()
        let outcome = await testRunner().run(hooks, phase: phase, context: testContext()) { steps.record($0) }
        check(outcome, steps: steps.all, policy: policy, phase: phase)
        let paths = try await server.requests().map(\.path)
        #expect(paths == (policy == .break ? ["/first", "/status/500"] : ["/first", "/status/500", "/third"]))
    }

    private func check(_ outcome: HookPhaseOutcome, steps: [HookStepResult], policy: HookFailurePolicy, phase: HookPhase) {
        #expect(outcome.phase == phase)
        #expect(steps == outcome.steps, "onStep reports every step, in order")
        #expect(outcome.steps.map(\.index) == [0, 1, 2])
        #expect(outcome.steps.allSatisfy { $0.phase == phase })
        #expect(outcome.steps[0].outcome == .succeeded)
        #expect(outcome.steps[1].outcome == .failed)
        #expect(outcome.steps[1].policy == policy)
        #expect(!outcome.cancelled)
        switch policy {
        case .ignore:
            #expect(outcome.warnings.count == 1)
            #expect(outcome.warnings.first?.hasPrefix("Hook \(phase.rawValue)[1]") == true)
            #expect(!outcome.failed && !outcome.broke)
            #expect(outcome.error == nil)
            #expect(outcome.steps[2].outcome == .succeeded)
        case .continue:
            #expect(outcome.warnings.isEmpty)
            #expect(outcome.failed && !outcome.broke)
            #expect(outcome.error?.hasPrefix("Hook \(phase.rawValue)[1]") == true)
            #expect(outcome.steps[2].outcome == .succeeded)
        case .break:
            #expect(outcome.warnings.isEmpty)
            #expect(outcome.broke && !outcome.failed)
            #expect(outcome.error?.hasPrefix("Hook \(phase.rawValue)[1]") == true)
            #expect(outcome.steps[2].outcome == .skipped)
            #expect(outcome.steps[2].attempts == 0)
            #expect(outcome.steps[2].error?.contains("on_failure: break") == true)
        }
    }

    @Test func emptyPhaseIsASuccess() async {
        let outcome = await testRunner().run([], phase: .finally, context: testContext()) { _ in }
        #expect(outcome.steps.isEmpty && !outcome.failed && !outcome.broke && outcome.warnings.isEmpty)
    }
}
