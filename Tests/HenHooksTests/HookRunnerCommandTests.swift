import Foundation
import HenProcess
import Testing
@testable import HenHooks

@Suite("Command hooks run through HenProcess")
struct HookRunnerCommandTests {
    private func runOne(_ command: CommandHook, policy: HookFailurePolicy = .continue, runner: HookRunner = testRunner(), context: HookContext = testContext()) async -> (HookPhaseOutcome, HookStepResult) {
        let outcome = await runner.run([HookDefinition(action: .command(command), onFailure: policy)], phase: .before, context: context) { _ in }
        return (outcome, outcome.steps[0])
    }

    @Test func environmentHasTheJobTheHookAndPathAndHome() async throws {
        let (_, step) = await runOne(CommandHook(
            invocation: .argv(["env"]),
            environment: ["MY_SETTING": Secret("x"), "HEN_JOB_ID": Secret("overridden?")]
        ))
        #expect(step.outcome == .succeeded)
        #expect(step.exitCode == 0)
        let lines = Set(step.output.split(separator: "\n").map(String.init))
        for expected in [
            "HEN_JOB_ID=job-42", "HEN_OPERATION=backup", "HEN_BACKUP=grafana db", "HEN_REPOSITORIES=local-disk,usb",
            "HEN_TRIGGER=schedule", "HEN_STATE=running", "HEN_ERROR=", "HEN_SNAPSHOT_IDS=abc123,def456",
            "HEN_HOSTNAME=laptop", "MY_SETTING=x",
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("PATH=") })
        if ProcessInfo.processInfo.environment["HOME"] != nil {
            #expect(lines.contains { $0.hasPrefix("HOME=") })
        }
        // Nothing else of the daemon's environment leaks in.
        let names = Set(lines.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        #expect(names.subtracting(["PATH", "HOME", "MY_SETTING", "PWD"]).allSatisfy { $0.hasPrefix("HEN_") })
    }

    @Test func shellStringRunsInTheWorkingDirectory() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, step) = await runOne(CommandHook(
            invocation: .shell(#"pwd; echo "$HEN_BACKUP" > marker.txt; echo to-stderr >&2"#),
            workingDirectory: directory
        ))
        #expect(step.outcome == .succeeded)
        #expect(step.name == #"before[0] shell pwd; echo "$HEN_BACKUP" > marker.txt; echo to-stderr >&2"#)
        let lines = step.output.split(separator: "\n").map(String.init)
        #expect(lines.contains(URL(fileURLWithPath: directory).resolvingSymlinksInPath().path) || lines.contains(directory))
        #expect(lines.contains("to-stderr"))
        #expect(try String(contentsOfFile: directory + "/marker.txt", encoding: .utf8) == "grafana db\n")
    }

    @Test func nonZeroExitFails() async throws {
        let (outcome, step) = await runOne(CommandHook(invocation: .shell("echo failing; exit 3")))
        #expect(step.outcome == .failed)
        #expect(step.exitCode == 3)
        #expect(step.error == "The command exited with code 3.")
        #expect(step.output == "failing")
        #expect(outcome.failed)
    }

    @Test func missingExecutableFails() async throws {
        let (_, step) = await runOne(CommandHook(invocation: .argv(["hen-no-such-program-xyz"])))
        #expect(step.outcome == .failed)
        #expect(step.exitCode == nil)
        #expect(step.error?.contains("hen-no-such-program-xyz") == true)
    }

    @Test func timeoutStopsTheCommandCleanly() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = ContinuousClock.now
        // The script records its pid, then waits; SIGINT ends it (sh's default action).
        let (outcome, step) = await runOne(
            CommandHook(invocation: .argv(["/bin/sh", "-c", "echo $$ > pid; echo started; exec sleep 600"]), workingDirectory: directory, timeout: 2),
            policy: .break
        )
        let elapsed = ContinuousClock.now - started
        #expect(step.outcome == .failed)
        #expect(step.timedOut)
        #expect(step.error == "The command timed out after 2 s and was stopped.")
        #expect(step.signal == 2)  // SIGINT, not the SIGKILL after the grace
        #expect(step.output == "started")
        #expect(outcome.broke)
        #expect(elapsed < .seconds(300))  // stopped, not waited for (sleep 600); no tighter bound: the suite shares 2 cores
        let pid = try #require(Int32(try String(contentsOfFile: directory + "/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!processExists(pid))
    }

    /// A shell hook's own commands get the SIGINT too (the whole process group, as with Ctrl-C): a program
    /// the shell started (not exec'd) cleans up and the shell ends by SIGINT, not by the SIGKILL after the grace.
    @Test func aShellHooksChildrenAreInterruptedToo() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = "sh -c 'trap \"echo cleaned > cleanup; exit 130\" INT; echo started; while :; do sleep 0.1; done'; echo after"
        let (_, step) = await runOne(
            CommandHook(invocation: .shell(script), workingDirectory: directory, timeout: 1.5),
            runner: testRunner(grace: .seconds(60))
        )
        #expect(step.timedOut)
        #expect(step.signal != 9, "killed after the grace: the shell's child never saw SIGINT")
        #expect((try? String(contentsOfFile: directory + "/cleanup", encoding: .utf8)) == "cleaned\n")
    }

    @Test func aCommandIgnoringSIGINTIsKilledAfterTheGrace() async throws {
        let started = ContinuousClock.now
        let (_, step) = await runOne(
            CommandHook(invocation: .shell("trap '' INT; echo stubborn; sleep 600"), timeout: 1.5),
            runner: testRunner(grace: .milliseconds(500))
        )
        let elapsed = ContinuousClock.now - started
        #expect(step.timedOut)
        #expect(step.outcome == .failed)
        #expect(step.signal == 9)
        #expect(step.output == "stubborn")
        #expect(elapsed < .seconds(300))  // killed, not waited for (sleep 600)
    }

    @Test func outputIsCapturedAndBounded() async throws {
        let (_, step) = await runOne(
            CommandHook(invocation: .shell("i=0; while [ $i -lt 5000 ]; do echo line-$i; i=$((i+1)); done")),
            runner: testRunner(outputLimit: 1024)
        )
        #expect(step.outcome == .succeeded)
        #expect(step.outputTruncated)
        #expect(step.output.hasPrefix("line-0\nline-1\n"))
        #expect(step.output.hasSuffix("line-4999"))
        #expect(step.output.utf8.count < 1200)
    }

    @Test func secretsAreRedactedFromOutput() async throws {
        let (_, step) = await runOne(CommandHook(
            invocation: .shell(#"echo "token is $API_TOKEN"; echo "$API_TOKEN" >&2"#),
            environment: ["API_TOKEN": Secret("tk-9f8e7d6c")]
        ))
        #expect(step.outcome == .succeeded)
        #expect(step.output.split(separator: "\n").sorted() == ["***", "token is ***"])
        #expect(!step.output.contains("tk-9f8e7d6c"))
    }

    @Test func cancellationStopsTheCommandAndSkipsTheRest() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = testRunner()
        let hooks = [
            HookDefinition(action: .command(CommandHook(invocation: .shell("echo $$ > pid; exec sleep 30"), workingDirectory: directory))),
            HookDefinition(action: .command(CommandHook(invocation: .argv(["true"])))),
        ]
        let task = Task { await runner.run(hooks, phase: .after, context: testContext()) { _ in } }
        // Wait until the command really runs (its pid file exists), then cancel the job.
        let pidFile = directory + "/pid"
        for _ in 0..<200 where (try? String(contentsOfFile: pidFile, encoding: .utf8))?.hasSuffix("\n") != true {
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        let outcome = await task.value
        #expect(outcome.cancelled)
        #expect(!outcome.failed && !outcome.broke)
        #expect(outcome.steps.map(\.outcome) == [.failed, .skipped])
        #expect(outcome.steps[0].cancelled)
        #expect(outcome.steps[1].cancelled)
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!processExists(pid))
    }
}
