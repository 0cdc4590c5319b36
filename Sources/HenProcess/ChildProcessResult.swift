/// One line a child printed, on the stream it printed it to.
public enum ChildOutputLine: Sendable, Equatable {
    case stdout(String)
    case stderr(String)
}

/// How a child ended. A non-zero exit is data, not an error.
public struct ChildProcessResult: Sendable, Equatable, CustomStringConvertible {
    /// The exit code, when the child exited (nil when a signal ended it or it never started).
    public var exitCode: Int32?
    /// The signal that ended the child, if one did.
    public var signal: Int32?
    /// We sent SIGINT because the caller was cancelled (or the child was not started because the caller
    /// was already cancelled: then `exitCode` and `signal` are both nil).
    public var wasInterrupted: Bool
    /// The last stderr lines, secrets redacted.
    public var stderrTail: [String]

    public init(exitCode: Int32?, signal: Int32?, wasInterrupted: Bool, stderrTail: [String]) {
        self.exitCode = exitCode
        self.signal = signal
        self.wasInterrupted = wasInterrupted
        self.stderrTail = stderrTail
    }

    /// Exited with code 0.
    public var succeeded: Bool { exitCode == 0 }

    public var description: String {
        if let exitCode { return "exit code \(exitCode)" }
        if let signal { return "signal \(signal)" }
        return "not started"
    }
}

/// Finishes a stream of a child's output when the child did not exit with code 0 (and was not
/// interrupted on purpose): carries the result with its exit code and stderr tail.
public struct ChildProcessExit: Error, Sendable, CustomStringConvertible {
    public var executable: String
    public var result: ChildProcessResult

    public init(executable: String, result: ChildProcessResult) {
        self.executable = executable
        self.result = result
    }

    public var description: String {
        let last = result.stderrTail.last.map { ": \($0)" } ?? ""
        return "\(executable) ended with \(result)\(last)"
    }
}
