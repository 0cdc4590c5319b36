import Foundation
import HenProcess

/// The external tools the tar driver runs (`gzip`, `tar`), through HenProcess's supervised children:
/// cancellation interrupts a child with SIGINT and drains it before returning.
struct TarTools: Sendable {
    let gzip: String
    let tar: String
    let niceness: Niceness

    struct Failure: Error, Sendable {
        let tool: String
        let message: String
        let stderrTail: String
        let cancelled: Bool
        let missing: Bool
    }

    /// Children get only what they need: a PATH (GNU tar runs gzip itself) and the C locale.
    private var environment: [String: String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH"])
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        environment["LC_ALL"] = "C"
        return environment
    }

    private func request(_ executable: String, _ arguments: [String]) -> ChildProcessRequest {
        ChildProcessRequest(executable: executable, arguments: arguments, environment: environment, niceness: niceness)
    }

    /// Runs a tool to completion; a non-zero exit or an interruption is a ``Failure``.
    func run(_ executable: String, _ arguments: [String]) async throws(Failure) {
        let name = (executable as NSString).lastPathComponent
        let result: ChildProcessResult
        do {
            result = try await ChildProcess.run(request(executable, arguments), onLine: { _ in })
        } catch {
            throw Failure(tool: name, message: error.message, stderrTail: "", cancelled: false, missing: error.code == .executableNotFound)
        }
        let tail = result.stderrTail.joined(separator: "\n")
        if result.wasInterrupted {
            throw Failure(tool: name, message: "\(name) was interrupted", stderrTail: tail, cancelled: true, missing: false)
        }
        guard result.succeeded else {
            throw Failure(tool: name, message: "\(name) ended with \(result)", stderrTail: tail, cancelled: false, missing: false)
        }
    }

    /// A tool's standard output as a stream of chunks, with backpressure. A consumer that stops early
    /// interrupts the child. Errors finishing the stream are ``Failure``s.
    func bytes(_ executable: String, _ arguments: [String]) -> AsyncThrowingStream<[UInt8], any Error> {
        let name = (executable as NSString).lastPathComponent
        let source = ChildProcess.bytes(request(executable, arguments))
        let box = IteratorBox(source.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: {
            do {
                return try await box.next()
            } catch let exit as ChildProcessExit {
                throw Failure(
                    tool: name, message: "\(name) ended with \(exit.result)",
                    stderrTail: exit.result.stderrTail.joined(separator: "\n"), cancelled: false, missing: false
                )
            } catch let error as ChildProcessError {
                throw Failure(tool: name, message: error.message, stderrTail: "", cancelled: false, missing: error.code == .executableNotFound)
            }
        })
    }
}

/// Holds a stream iterator for a pull-based stream; pulls are serial (one consumer), which is what makes
/// the unchecked sendability sound.
private final class IteratorBox: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator

    init(_ iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> [UInt8]? {
        try await iterator.next()
    }
}
