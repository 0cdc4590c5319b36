import Dispatch
import Foundation

/// The frame of a plugin written in Swift: reads the operation from argv and the request from stdin,
/// writes messages as JSON lines, turns SIGINT into cancellation of the operation's task, and ends with
/// exactly one `result` or `error` line and the matching exit status.
public enum PluginMain {
    /// Where a plugin writes its messages (stdout, one line each, in order, from any task).
    public final class Output: Sendable {
        private let lock = NSLock()
        private let encoder = PluginProtocol.encoder()

        public init() {}

        public func send(_ message: PluginMessage) {
            guard let data = try? encoder.encode(message) else { return }
            lock.lock()
            defer { lock.unlock() }
            FileHandle.standardOutput.write(data + Data([0x0A]))
        }

        /// Raw bytes after a `stream` line (dump).
        public func write(bytes: [UInt8]) {
            lock.lock()
            defer { lock.unlock() }
            FileHandle.standardOutput.write(Data(bytes))
        }

        /// A dump's answer: the `stream` line, then every chunk of `bytes`, then the exit status, the only
        /// thing that can still say it failed (1, with `what` and the error on stderr; 130 when interrupted).
        public func streamAndExit(_ bytes: AsyncThrowingStream<[UInt8], any Error>, what: String) async -> Never {
            send(.stream)
            do {
                for try await chunk in bytes { write(bytes: chunk) }
            } catch {
                FileHandle.standardError.write(Data("\(what) failed: \(error)\n".utf8))
                exit(1)
            }
            exit(Task.isCancelled ? 130 : 0)
        }

        public func progress(_ progress: Progress) { send(.progress(progress)) }
        public func warning(_ text: String) { send(.warning(text)) }
        public func log(_ level: DriverEvent.LogLevel, _ text: String) { send(.log(level: level, message: text)) }
    }

    /// Runs `handler` for the operation named in argv with the request from stdin, and exits.
    /// `handler` returns the result, or nil when it already streamed its answer (dump); it throws a
    /// ``DriverError`` to fail. A SIGINT cancels the handler's task; it should stop its child the clean way and
    /// throw `.cancelled`.
    public static func run(_ handler: @escaping @Sendable (PluginRequest, Output) async throws -> PluginResult?) async -> Never {
        let output = Output()
        let arguments = CommandLine.arguments
        guard arguments.count == 2, let operation = PluginOperation(rawValue: arguments[1]) else {
            output.send(.error(PluginFailure(code: .invalidRequest, message: "Usage: \(arguments.first ?? "plugin") <operation> (one of \(PluginOperation.allCases.map(\.rawValue).joined(separator: ", "))), with a JSON request on stdin.")))
            exit(2)
        }
        var request = PluginRequest(operation: operation, repository: nil, host: "")
        if operation != .describe {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            do {
                request = try PluginProtocol.decoder().decode(PluginRequest.self, from: input)
            } catch {
                output.send(.error(PluginFailure(code: .invalidRequest, message: "The request on stdin is not a plugin request: \(error).")))
                exit(2)
            }
            guard request.protocolVersion == PluginProtocol.version, request.operation == operation else {
                output.send(.error(PluginFailure(code: .invalidRequest, message: "The request is for protocol \(request.protocolVersion) and \(request.operation.rawValue); this plugin speaks \(PluginProtocol.version) and was asked for \(operation.rawValue).")))
                exit(2)
            }
        }
        signal(SIGINT, SIG_IGN)
        let work = Task { try await handler(request, output) }
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT)
        interrupts.setEventHandler { work.cancel() }
        interrupts.resume()
        do {
            if let result = try await work.value { output.send(.result(result)) }
            exit(0)
        } catch let error as DriverError {
            output.send(.error(PluginFailure(code: error.code, message: error.message, detail: error.detail)))
            exit(1)
        } catch {
            output.send(.error(PluginFailure(code: .failed, message: "\(error)")))
            exit(1)
        }
    }
}
