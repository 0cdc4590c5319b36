import Foundation
import HenProcess
import HenTestSupport
import Synchronization
import Testing

@Suite("ChildProcess streams")
struct ChildProcessStreamTests {
    private func shell(_ script: String, grace: Duration = .seconds(10)) -> ChildProcessRequest {
        ChildProcessRequest(
            executable: "sh",
            arguments: ["-c", script],
            environment: ChildProcessRequest.currentEnvironment(keeping: ["PATH"]),
            secrets: ["topsecret"],
            terminationGrace: grace
        )
    }

    @Test func linesStreamInOrder() async throws {
        var lines: [String] = []
        for try await line in ChildProcess.lines(shell("seq 1 1000; echo topsecret")) {
            lines.append(line)
        }
        #expect(lines == (1...1000).map(String.init) + ["***"])
    }

    @Test func nonZeroExitFinishesTheStreamWithTheResult() async throws {
        var lines: [String] = []
        do {
            for try await line in ChildProcess.lines(shell("echo partial; echo 'Fatal: topsecret broke' >&2; exit 12")) {
                lines.append(line)
            }
            Issue.record("the stream should have thrown")
        } catch let exit as ChildProcessExit {
            #expect(exit.result.exitCode == 12)
            #expect(exit.result.stderrTail == ["Fatal: *** broke"])
            #expect(!exit.description.contains("topsecret"))
        }
        #expect(lines == ["partial"])
    }

    @Test func missingExecutableFinishesTheStreamWithAnError() async throws {
        let stream = ChildProcess.lines(ChildProcessRequest(executable: "hen-missing-tool", environment: ["PATH": "/usr/bin"]))
        await #expect(throws: ChildProcessError.self) {
            for try await _ in stream {}
        }
    }

    @Test func bytesArriveUntouched() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-bytes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("blob")
        var expected = [UInt8](repeating: 0, count: 1_000_003)
        for index in expected.indices { expected[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
        // Contains the "secret" text: bytes are data and are never redacted.
        expected.replaceSubrange(0..<9, with: Array("topsecret".utf8))
        try Data(expected).write(to: file)
        var received: [UInt8] = []
        for try await chunk in ChildProcess.bytes(ChildProcessRequest(executable: "cat", arguments: [file.path], environment: ["PATH": "/usr/bin:/bin"], secrets: ["topsecret"])) {
            received += chunk
        }
        #expect(received == expected)
    }

    @Test func consumerStoppingEarlyInterruptsTheChild() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-early-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("interrupted").path
        // Endless output; the trap proves SIGINT (not SIGPIPE or SIGKILL) ended it.
        let script = "trap 'touch \(marker); exit 9' INT; echo $$; i=0; while :; do echo line$i; i=$((i+1)); done"
        var pid: Int32?
        var seen = 0
        for try await line in ChildProcess.lines(shell(script)) {
            if pid == nil { pid = Int32(line) } else { seen += 1 }
            if seen == 10 { break }
        }
        let child = try #require(pid)
        #expect(await ProcessTable.waitUntilGone(child))
        #expect(FileManager.default.fileExists(atPath: marker))
    }

    @Test func cancelledConsumerInterruptsTheChild() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-cancel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("interrupted").path
        let script = "trap 'touch \(marker); exit 9' INT; echo $$; while :; do sleep 0.1; done"
        let pids = AsyncStream<Int32>.makeStream()
        let consumer = Task {
            for try await line in ChildProcess.lines(shell(script)) {
                if let pid = Int32(line) { pids.continuation.yield(pid) }
            }
        }
        var iterator = pids.stream.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        #expect(await ProcessTable.waitUntilGone(pid))
        #expect(FileManager.default.fileExists(atPath: marker))
    }

    @Test func slowConsumerHoldsTheProducerBack() async throws {
        let produced = Mutex(0)
        let stream = BackpressuredStream.make(of: Int.self, bufferSize: 4) { sink in
            for value in 1...1000 {
                produced.withLock { $0 = value }
                guard await sink.send(value) else { return }
            }
        }
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == 1)
        // Give the producer every chance to run ahead.
        for _ in 0..<200 { await Task.yield() }
        #expect(produced.withLock { $0 } <= 1 + 4 + 1)
        var values = [1]
        while let value = try await iterator.next() { values.append(value) }
        #expect(values == Array(1...1000))
    }

    @Test func batchesArriveInOrderAndHoldTheProducerBackToo() async throws {
        let produced = Mutex(0)
        let stream = BackpressuredStream.make(of: Int.self, bufferSize: 4) { sink in
            for start in stride(from: 1, through: 991, by: 10) {
                produced.withLock { $0 = start + 9 }
                guard await sink.send(contentsOf: Array(start...start + 9)) else { return }
            }
        }
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == 1)
        for _ in 0..<200 { await Task.yield() }
        // One batch handed over, and the producer waits: at most one batch beyond the buffer.
        #expect(produced.withLock { $0 } <= 10)
        var values = [1]
        // Taking an element from a buffer still at or over its size lets no batch in: 7...10 are left after
        // six takes, and the producer still waits (it used to be woken by every take, one batch each).
        for _ in 2...6 { values.append(try #require(try await iterator.next())) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(produced.withLock { $0 } == 10)
        // A slow consumer, one element at a time: never more than the buffer and one batch ahead of it.
        var furthestAhead = 0
        while let value = try await iterator.next() {
            values.append(value)
            for _ in 0..<20 { await Task.yield() }
            furthestAhead = max(furthestAhead, produced.withLock { $0 } - value)
        }
        #expect(values == Array(1...1000))
        #expect(furthestAhead <= 4 + 10, "the producer ran \(furthestAhead) elements ahead")
    }

    @Test func aConsumerLeavingRefusesTheNextBatch() async throws {
        let refused = Mutex(false)
        func firstThree() async throws -> [Int] {
            // The stream is gone when this returns: that is the consumer leaving.
            let stream = BackpressuredStream.make(of: Int.self, bufferSize: 2) { sink in
                for start in stride(from: 1, through: 91, by: 10) {
                    guard await sink.send(contentsOf: Array(start...start + 9)) else {
                        refused.withLock { $0 = true }
                        return
                    }
                }
            }
            var seen: [Int] = []
            for try await value in stream {
                seen.append(value)
                if value == 3 { break }
            }
            return seen
        }
        #expect(try await firstThree() == [1, 2, 3])
        // The producer ends by itself once the consumer is gone.
        for _ in 0..<500 where !refused.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(refused.withLock { $0 })
    }

    @Test func producerErrorEndsTheStream() async throws {
        struct Broken: Error {}
        let stream = BackpressuredStream.make(of: Int.self) { sink in
            await sink.send(1)
            throw Broken()
        }
        var values: [Int] = []
        await #expect(throws: Broken.self) {
            for try await value in stream { values.append(value) }
        }
        #expect(values == [1])
    }
}
