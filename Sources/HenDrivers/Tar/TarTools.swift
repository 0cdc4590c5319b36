import Foundation
import HenProcess

/// The external tools the tar driver runs (`gzip`, `tar`), in one place so the way children are
/// supervised can change without touching the driver.
struct TarTools: Sendable {
    let gzip: String
    let tar: String
    let niceness: Niceness

    struct Failure: Error, Sendable {
        let tool: String
        let message: String
        let stderrTail: String
        let cancelled: Bool
    }

    /// Runs a tool to completion; a non-zero exit is a ``Failure``. When the task is cancelled, the child
    /// gets SIGINT, then SIGKILL after a grace period, and this throws a cancelled ``Failure``.
    func run(_ executable: String, _ arguments: [String], workingDirectory: String? = nil) async throws(Failure) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let name = (executable as NSString).lastPathComponent
        let tail = StderrTail()
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { tail.append(data) }
        }
        let status: Int32
        do {
            status = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                    process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                    do { try process.run() } catch {
                        process.terminationHandler = nil
                        continuation.resume(throwing: error)
                    }
                }
            } onCancel: {
                Self.stop(process)
            }
        } catch {
            errors.fileHandleForReading.readabilityHandler = nil
            throw Failure(tool: name, message: "\(name) could not be started (\(error))", stderrTail: "", cancelled: false)
        }
        errors.fileHandleForReading.readabilityHandler = nil
        tail.append(errors.fileHandleForReading.readDataToEndOfFile())
        if Task.isCancelled {
            throw Failure(tool: name, message: "\(name) was interrupted", stderrTail: tail.text, cancelled: true)
        }
        guard status == 0 else {
            throw Failure(tool: name, message: "\(name) exited with status \(status)", stderrTail: tail.text, cancelled: false)
        }
    }

    /// A tool's standard output as a stream of chunks. A consumer that stops early interrupts the child.
    func bytes(_ executable: String, _ arguments: [String]) -> AsyncThrowingStream<[UInt8], any Error> {
        let name = (executable as NSString).lastPathComponent
        return AsyncThrowingStream { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            let tail = StderrTail()
            errors.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if !data.isEmpty { tail.append(data) }
            }
            do {
                try process.run()
            } catch {
                continuation.finish(throwing: Failure(tool: name, message: "\(name) could not be started (\(error))", stderrTail: "", cancelled: false))
                return
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination { Self.stop(process) }
            }
            let reader = Thread {
                let handle = output.fileHandleForReading
                while true {
                    let data = handle.readData(ofLength: 65_536)
                    if data.isEmpty { break }
                    if case .terminated = continuation.yield([UInt8](data)) {
                        Self.stop(process)
                        // Keep draining so the child is never killed by a broken pipe.
                        while !handle.readData(ofLength: 65_536).isEmpty {}
                        break
                    }
                }
                process.waitUntilExit()
                errors.fileHandleForReading.readabilityHandler = nil
                tail.append(errors.fileHandleForReading.readDataToEndOfFile())
                if process.terminationStatus == 0 || process.terminationReason == .uncaughtSignal {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: Failure(
                        tool: name, message: "\(name) exited with status \(process.terminationStatus)",
                        stderrTail: tail.text, cancelled: false
                    ))
                }
            }
            reader.start()
        }
    }

    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.interrupt()
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }
}

/// The last few lines a child wrote to stderr.
private final class StderrTail: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) {
        lock.lock()
        data.append(more)
        if data.count > 4096 { data = data.suffix(4096) }
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
