import Foundation
import HenProcess
import HenTestSupport
import Synchronization
import Testing

@Suite("ChildProcess")
struct ChildProcessTests {
    private func shell(_ script: String, secrets: [String] = [], grace: Duration = .seconds(10), tail: Int = 20, niceness: Niceness = Niceness()) -> ChildProcessRequest {
        ChildProcessRequest(
            executable: "sh",
            arguments: ["-c", script],
            environment: ChildProcessRequest.currentEnvironment(keeping: ["PATH"]),
            niceness: niceness,
            secrets: secrets,
            terminationGrace: grace,
            stderrTailLines: tail
        )
    }

    @Test func linesArriveInOrderOnTheirStreams() async throws {
        let recorder = ChildOutputRecorder()
        let result = try await ChildProcess.run(
            shell("i=1; while [ $i -le 500 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; printf 'no-newline'"),
            onLine: recorder.record
        )
        #expect(result.exitCode == 0)
        #expect(result.signal == nil)
        #expect(!result.wasInterrupted)
        #expect(recorder.stdout == (1...500).map { "out\($0)" } + ["no-newline"])
        #expect(recorder.stderr == (1...500).map { "err\($0)" })
    }

    @Test func longLinesAndInvalidUTF8AreDelivered() async throws {
        let recorder = ChildOutputRecorder()
        // A 300 000-character line spans many pipe reads; \377 is not UTF-8.
        let result = try await ChildProcess.run(
            shell("head -c 300000 /dev/zero | tr '\\0' 'x'; echo; printf 'bad\\377byte\\r\\n'"),
            onLine: recorder.record
        )
        #expect(result.exitCode == 0)
        #expect(recorder.stdout.count == 2)
        #expect(recorder.stdout.first == String(repeating: "x", count: 300_000))
        #expect(recorder.stdout.last == "bad\u{FFFD}byte")
    }

    @Test func aByteStreamChildsStdoutPipeHoldsOneMebibyte() async throws {
        // The child waits for Hen to enlarge its stdout pipe, then prints the pipe's size (F_GETPIPE_SZ,
        // 1032): Linux's default is 64 KiB. Only byte streams (dumps) get the larger pipe. Hen enlarges it
        // when its task runs after the spawn; in a loaded run of the whole suite on two cores that took more
        // than the 10 s this test once allowed, so the child waits up to 5 minutes (by the clock, not by a
        // count of sleeps that a loaded machine stretches) and stops waiting as soon as the size changes.
        let script = "import fcntl, time\nend = time.monotonic() + 300\nwhile fcntl.fcntl(1, 1032) < 1 << 20 and time.monotonic() < end:\n    time.sleep(0.01)\nprint(fcntl.fcntl(1, 1032))"
        let request = ChildProcessRequest(
            executable: "python3",
            arguments: ["-c", script],
            environment: ChildProcessRequest.currentEnvironment(keeping: ["PATH"])
        )
        let output = Mutex<[UInt8]>([])
        let result = try await ChildProcess.run(request, onStdout: { chunk in
            output.withLock { $0 += chunk }
            return true
        }, onStderrLine: { _ in })
        #expect(result.exitCode == 0)
        #expect(String(decoding: output.withLock { $0 }, as: UTF8.self) == "\(1 << 20)\n")
    }

    @Test func stderrTailIsBounded() async throws {
        let result = try await ChildProcess.run(
            shell("i=1; while [ $i -le 50 ]; do echo problem$i >&2; i=$((i+1)); done; exit 4", tail: 5),
            onLine: { _ in }
        )
        #expect(result.exitCode == 4)
        #expect(result.stderrTail == ["problem46", "problem47", "problem48", "problem49", "problem50"])
    }

    @Test func secretsAreRedactedEverywhere() async throws {
        let recorder = ChildOutputRecorder()
        let request = ChildProcessRequest(
            executable: "sh",
            arguments: ["-c", "echo \"pw=$HEN_PW and $HEN_PW\"; echo \"failed with $HEN_PW\" >&2; exit 3"],
            environment: ChildProcessRequest.currentEnvironment(keeping: ["PATH"]).merging(["HEN_PW": "hunter2-secret"]) { $1 },
            secrets: ["hunter2-secret"]
        )
        let result = try await ChildProcess.run(request, onLine: recorder.record)
        #expect(result.exitCode == 3)
        #expect(recorder.stdout == ["pw=*** and ***"])
        #expect(recorder.stderr == ["failed with ***"])
        #expect(result.stderrTail == ["failed with ***"])
    }

    @Test func environmentIsExactlyTheRequestedOne() async throws {
        let recorder = ChildOutputRecorder()
        let request = ChildProcessRequest(executable: "/usr/bin/env", environment: ["ONLY": "this"])
        let result = try await ChildProcess.run(request, onLine: recorder.record)
        #expect(result.exitCode == 0)
        #expect(recorder.stdout == ["ONLY=this"])
    }

    @Test func workingDirectoryIsApplied() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-cwd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorder = ChildOutputRecorder()
        var request = shell("pwd")
        request.workingDirectory = directory
        _ = try await ChildProcess.run(request, onLine: recorder.record)
        #expect(recorder.stdout == [directory])
    }

    @Test func cancellationInterruptsAndDrains() async throws {
        let recorder = ChildOutputRecorder()
        let request = shell("trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.1; done")
        let task = Task { try await ChildProcess.run(request, onLine: recorder.record) }
        await recorder.waitFor("ready")
        task.cancel()
        let result = try await task.value
        #expect(result.wasInterrupted)
        #expect(result.exitCode == 7)
        // The trap's output was printed after SIGINT, and still read.
        #expect(recorder.stdout == ["ready", "got-int"])
    }

    @Test func childIgnoringInterruptIsKilledAfterTheGrace() async throws {
        let recorder = ChildOutputRecorder()
        let request = shell("trap '' INT; echo $$; echo ready; while :; do sleep 0.1; done", grace: .milliseconds(500))
        let task = Task { try await ChildProcess.run(request, onLine: recorder.record) }
        await recorder.waitFor("ready")
        let pid = try #require(Int32(recorder.stdout.first ?? ""))
        let start = ContinuousClock.now
        task.cancel()
        let result = try await task.value
        let elapsed = ContinuousClock.now - start
        #expect(result.wasInterrupted)
        #expect(result.exitCode == nil)
        #expect(result.signal == SIGKILL)
        #expect(elapsed >= .milliseconds(450))
        #expect(!ProcessTable.isRunning(pid))
    }

    /// A daemon told twice to stop hurries its children: an interrupted child ignoring SIGINT is killed after
    /// the short grace instead of its own (two minutes here), and one started later gets the short grace too.
    @Test func anUrgencyShortensTheGraceOfItsChildren() async throws {
        let urgency = ChildStopUrgency()
        let recorder = ChildOutputRecorder()
        let request = shell("trap '' INT; echo $$; echo ready; while :; do sleep 0.1; done", grace: .seconds(120))
        let task = Task { try await ChildStopUrgency.$current.withValue(urgency) { try await ChildProcess.run(request, onLine: recorder.record) } }
        await recorder.waitFor("ready")
        let pid = try #require(Int32(recorder.stdout.first ?? ""))
        let start = ContinuousClock.now
        task.cancel()
        try await Task.sleep(for: .milliseconds(200))
        urgency.hurry(grace: .milliseconds(300))
        let result = try await task.value
        #expect(result.signal == SIGKILL)
        #expect(ContinuousClock.now - start < .seconds(60))
        #expect(!ProcessTable.isRunning(pid))

        let later = ChildOutputRecorder()
        let second = Task { try await ChildStopUrgency.$current.withValue(urgency) { try await ChildProcess.run(request, onLine: later.record) } }
        await later.waitFor("ready")
        second.cancel()
        #expect(try await second.value.signal == SIGKILL)
    }

    @Test func childLeadsItsOwnProcessGroup() async throws {
        let recorder = ChildOutputRecorder()
        // Field 5 of /proc/<pid>/stat is the process group ("(sh)" has no space, so cut counts right).
        _ = try await ChildProcess.run(shell("echo $$; cut -d' ' -f5 /proc/$$/stat"), onLine: recorder.record)
        #expect(recorder.stdout.count == 2)
        #expect(recorder.stdout.first == recorder.stdout.last)
        #expect(recorder.stdout.first != String(getpgrp()))
    }

    @Test func alreadyCancelledCallerDoesNotStartTheChild() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-nostart-\(UUID().uuidString)").path
        let request = shell("mkdir '\(directory)'")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await ChildProcess.run(request, onLine: { _ in })
        }
        let result = try await task.value
        #expect(result.wasInterrupted)
        #expect(result.exitCode == nil && result.signal == nil)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func missingExecutableIsAnError() async throws {
        for name in ["hen-no-such-command-\(UUID().uuidString.prefix(8))", "/nonexistent/hen/tool"] {
            let error = await #expect(throws: ChildProcessError.self) {
                _ = try await ChildProcess.run(ChildProcessRequest(executable: name, environment: ["PATH": "/usr/bin:/bin"]), onLine: { _ in })
            }
            #expect(error?.code == .executableNotFound)
            #expect(error?.executable == name)
            #expect(error?.message.contains(name) == true)
        }
    }

    @Test func nicenessIsApplied() async throws {
        let recorder = ChildOutputRecorder()
        // /proc/<pid>/stat field 19 is the nice value the kernel holds for the process.
        let request = shell(
            "nice; ionice -p $$; cut -d' ' -f19 /proc/$$/stat",
            niceness: Niceness(cpu: 7, io: .idle)
        )
        let result = try await ChildProcess.run(request, onLine: recorder.record)
        #expect(result.exitCode == 0)
        #expect(recorder.stdout == ["7", "idle", "7"])

        let bestEffort = ChildOutputRecorder()
        _ = try await ChildProcess.run(shell("ionice -p $$", niceness: Niceness(io: .bestEffort(level: 6))), onLine: bestEffort.record)
        #expect(bestEffort.stdout == ["best-effort: prio 6"])
    }
}
