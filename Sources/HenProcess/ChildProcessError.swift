/// The child could not be run or its output could not be read. (How it exits is a result, not an error.)
public struct ChildProcessError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case executableNotFound = "executable_not_found"
        case spawnFailed = "spawn_failed"
        case ioFailed = "io_failed"
    }

    public var code: Code
    /// One sentence naming the executable, secrets redacted.
    public var message: String
    /// The executable as the request named it.
    public var executable: String

    public init(_ code: Code, _ message: String, executable: String) {
        self.code = code
        self.message = message
        self.executable = executable
    }

    public var description: String { message }
}
