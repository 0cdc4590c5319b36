import Foundation

extension Process {
    /// Waits for the child with `waitpid` and returns its exit status (128 + signal when a signal ended it).
    ///
    /// Not `waitUntilExit()`: on Linux that spins until Foundation's SIGCHLD handler runs, and the handler needs
    /// a libdispatch worker — the same threads as Swift's cooperative pool. Two tests spinning in it on a
    /// two-core machine starve the handler and deadlock the whole suite.
    @discardableResult
    public func reap() -> Int32 {
        var status: Int32 = 0
        while true {
            let result = waitpid(processIdentifier, &status, 0)
            if result == processIdentifier { break }
            if result == -1 && errno == EINTR { continue }
            // ECHILD: Foundation's own handler reaped it first and is about to publish the status.
            while isRunning { usleep(1_000) }
            return terminationReason == .uncaughtSignal ? 128 + terminationStatus : terminationStatus
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Ends the child at once (SIGKILL) and reaps it.
    public func killAndReap() {
        kill(processIdentifier, SIGKILL)
        reap()
    }
}

/// Runs blocking work (a child waited for) on a thread of its own: blocking one of the cooperative pool's
/// few threads starves every other test running in parallel.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A tool's failure in a test: the command line and its exit status.
public struct ToolFailed: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Runs a tool to its end (blocking: call it off the pool) and returns its stdout; a non-zero exit throws.
public func runTool(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let status = process.reap()
    guard status == 0 else {
        throw ToolFailed(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(status)")
    }
    return String(decoding: data, as: UTF8.self)
}
