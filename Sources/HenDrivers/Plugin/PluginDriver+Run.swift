import Foundation
import HenProcess
import Synchronization

extension PluginDriver {
    /// What a plugin may see of the daemon's environment; its secrets come in the request, never here.
    static let passedThroughEnvironment = ["PATH", "HOME", "TZ", "TMPDIR", "USER", "LANG", "LC_ALL"]

    /// The request for `operation`, secrets included (it travels on stdin only).
    func request(_ operation: PluginOperation, limits: TransferLimits?) throws(DriverError) -> PluginRequest {
        var password = repository.password?.value
        if password == nil, let file = repository.passwordFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw DriverError(.wrongPassword, "Repository \"\(repository.name)\": the password_file \(file) cannot be read.", repository: repository.name)
            }
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            password = text
        }
        if operation == .describe { return PluginRequest(operation: operation, repository: nil, host: context.hostname) }
        var request = PluginRequest(
            operation: operation,
            repository: PluginRequest.Repository(
                name: repository.name, location: repository.location, password: password,
                environment: repository.environment.mapValues(\.value), limits: limits ?? repository.limits
            ),
            host: context.hostname,
            cacheDirectory: context.cacheDirectory.map { ($0 as NSString).appendingPathComponent(description.name) },
            readOnly: context.readOnly
        )
        request.executables = context.executables
        return request
    }

    /// Runs the plugin for one operation and returns its validated result (for dump, an empty one once the
    /// bytes have all been handed to `onItem`). Items (snapshots, nodes, bytes) go to `onItem`, which
    /// returns false to stop the plugin (its consumer left). Events go to `events` as they come.
    @discardableResult
    func run(
        _ operation: PluginOperation,
        limits: TransferLimits? = nil,
        events: DriverEventHandler,
        configure: (inout PluginRequest) -> Void = { _ in },
        onItem: (@Sendable (PluginItem) async -> Bool)? = nil
    ) async throws(DriverError) -> PluginResult {
        var request = try request(operation, limits: limits)
        configure(&request)
        let input: Data
        do { input = try PluginProtocol.encoder().encode(request) } catch {
            throw failure(.failed, "Repository \"\(repository.name)\": the \(operation.rawValue) request could not be encoded (\(error)).")
        }
        var secrets = repository.secretValues
        if let password = request.repository?.password { secrets.append(password) }
        let process = ChildProcessRequest(
            executable: executable,
            arguments: [operation.rawValue],
            environment: ChildProcessRequest.currentEnvironment(keeping: Self.passedThroughEnvironment),
            niceness: context.niceness,
            secrets: secrets,
            terminationGrace: interruptGrace,
            standardInput: Array(input) + [UInt8(ascii: "\n")],
            maxLineBytes: PluginOutputReader.maxLineBytes
        )
        events(.log(level: .info, message: "run: \(process.displayCommandLine)"))
        let reader = PluginOutputReader(operation: operation, host: context.hostname)
        let counters = PluginRunCounters()
        // Events reach `events` in this task (the caller's), as the driver contract wants.
        let relay = DriverOutputRelay<DriverEvent>()
        async let run = Self.supervise(process, reader: reader, relay: relay, onItem: onItem, counters: counters)
        while let event = await relay.next() { events(event) }
        let outcome: ChildProcessResult
        switch await run {
        case .success(let value): outcome = value
        case .failure(let error):
            let code: DriverError.Code = error.code == .executableNotFound ? .binaryMissing : .failed
            throw failure(code, "Repository \"\(repository.name)\": the \(description.name) plugin (\(executable)) could not be run: \(error.message)")
        }
        if reader.violation == nil, !outcome.wasInterrupted, let steps = reader.finish() {
            let tail = DriverOutputRelay<DriverEvent>()
            _ = await Self.deliver(steps, relay: tail, onItem: onItem, counters: counters)
            tail.finish()
            while let event = await tail.next() { events(event) }
        }
        return try conclude(operation, outcome: outcome, reader: reader, consumerLeft: counters.consumerLeft.load(ordering: .relaxed))
    }

    private static func supervise(_ process: ChildProcessRequest, reader: PluginOutputReader, relay: DriverOutputRelay<DriverEvent>, onItem: (@Sendable (PluginItem) async -> Bool)?, counters: PluginRunCounters) async -> Result<ChildProcessResult, ChildProcessError> {
        defer { relay.finish() }
        do {
            return .success(try await ChildProcess.run(process, onStdout: { chunk in
                guard let steps = reader.feed(chunk) else { return false }
                return await deliver(steps, relay: relay, onItem: onItem, counters: counters)
            }, onStderrLine: { line in
                // A plugin's stderr is its free-form log: kept, but bounded like its messages.
                let count = counters.stderrLines.add(1, ordering: .relaxed).newValue
                if count <= PluginOutputReader.maxNotes { relay.yield(.log(level: .info, message: line)) }
            }))
        } catch {
            return .failure(error)
        }
    }

    private static func deliver(_ steps: [PluginOutputReader.Step], relay: DriverOutputRelay<DriverEvent>, onItem: (@Sendable (PluginItem) async -> Bool)?, counters: PluginRunCounters) async -> Bool {
        for step in steps {
            switch step {
            case .event(let event): relay.yield(event)
            case .item(let item):
                guard let onItem else { continue }
                if await !onItem(item) {
                    counters.consumerLeft.store(true, ordering: .relaxed)
                    return false
                }
            }
        }
        return true
    }

    /// The operation's outcome from what the plugin said and how it ended.
    private func conclude(_ operation: PluginOperation, outcome: ChildProcessResult, reader: PluginOutputReader, consumerLeft: Bool) throws(DriverError) -> PluginResult {
        let name = "the \(description.name) plugin"
        let detail = outcome.stderrTail.suffix(5).joined(separator: "\n")
        if let violation = reader.violation {
            throw failure(.failed, "Repository \"\(repository.name)\": \(name) broke the plugin protocol during \(operation.rawValue): \(violation).", detail: detail)
        }
        if Task.isCancelled || consumerLeft {
            throw failure(.cancelled, "Repository \"\(repository.name)\": \(operation.rawValue) was stopped.")
        }
        if let error = reader.failure {
            throw DriverError(error.code, error.message, repository: repository.name, detail: error.detail ?? (detail.isEmpty ? nil : detail))
        }
        let ended = outcome.signal.map { "was killed by signal \($0)" } ?? outcome.exitCode.map { "exited with code \($0)" } ?? "did not start"
        if operation == .dump, reader.streamed {
            guard outcome.succeeded else {
                throw failure(.failed, "Repository \"\(repository.name)\": \(name) \(ended) while it sent the bytes of the dump.", detail: detail)
            }
            return PluginResult()
        }
        guard let result = reader.result else {
            let last = outcome.stderrTail.last.map { " (\($0))" } ?? ""
            throw failure(.failed, "Repository \"\(repository.name)\": \(name) \(ended) without a result for \(operation.rawValue)\(last).", detail: detail)
        }
        guard outcome.succeeded else {
            throw failure(.failed, "Repository \"\(repository.name)\": \(name) reported a result for \(operation.rawValue) but then \(ended).", detail: detail)
        }
        return result
    }

    func failure(_ code: DriverError.Code, _ message: String, detail: String? = nil) -> DriverError {
        DriverError(code, message, repository: repository.name, detail: detail?.isEmpty == true ? nil : detail)
    }
}

/// What one run counts while the plugin's output streams in (two tasks read stdout and stderr).
final class PluginRunCounters: Sendable {
    /// The consumer of a stream stopped taking items, so the plugin was stopped on purpose.
    let consumerLeft = Atomic<Bool>(false)
    let stderrLines = Atomic<Int>(0)
}
