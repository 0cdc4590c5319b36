import Foundation
import Synchronization

/// What a plugin's stdout yields, once validated.
enum PluginItem: Sendable {
    case message(PluginMessage)
    /// Raw bytes after a `stream` line (dump).
    case bytes([UInt8])
}

/// Reads a plugin's stdout for one operation and holds it to the protocol: every line one JSON message of
/// a known type, items only where the operation has them (`snapshot` for snapshots, `node` for list, `change`
/// and at most one `statistics` for diff, `stream` for dump), snapshots of the driver's host only, exactly one `result` or `error` and nothing after it, an
/// error code from ``DriverError/Code/all``, a result carrying what the operation answers, no line longer
/// than ``maxLineBytes`` and no more than ``maxNotes`` warnings and log lines. The first violation is kept
/// and the plugin is stopped.
final class PluginOutputReader: Sendable {
    static let maxLineBytes = 1 << 20
    static let maxNotes = 100_000

    enum Step: Sendable {
        case item(PluginItem)
        case event(DriverEvent)
    }

    private struct State {
        var pending: [UInt8] = []
        var streaming = false
        var result: PluginResult?
        var failure: PluginFailure?
        var violation: String?
        var notes = 0
        var lineNumber = 0
        var statistics = false
    }

    let operation: PluginOperation
    let host: String
    private let state = Mutex(State())

    init(operation: PluginOperation, host: String) {
        self.operation = operation
        self.host = host
    }

    var result: PluginResult? { state.withLock { $0.result } }
    var failure: PluginFailure? { state.withLock { $0.failure } }
    var violation: String? { state.withLock { $0.violation } }
    var streamed: Bool { state.withLock { $0.streaming } }

    /// The steps a chunk of stdout yields; nil once the plugin broke the protocol (see ``violation``).
    func feed(_ chunk: [UInt8]) -> [Step]? {
        state.withLock { s in
            guard s.violation == nil else { return nil }
            if s.streaming { return chunk.isEmpty ? [] : [.item(.bytes(chunk))] }
            var steps: [Step] = []
            var start = chunk.startIndex
            while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                s.pending.append(contentsOf: chunk[start..<newline])
                start = newline + 1
                let line = s.pending
                s.pending.removeAll(keepingCapacity: true)
                guard accept(line, into: &steps, &s) else { return nil }
                if s.streaming {
                    // The rest of the chunk is the first bytes of the stream.
                    if start < chunk.endIndex { steps.append(.item(.bytes(Array(chunk[start...])))) }
                    return steps
                }
            }
            s.pending.append(contentsOf: chunk[start...])
            if s.pending.count > Self.maxLineBytes {
                s.violation = "it wrote a line longer than \(Self.maxLineBytes) bytes"
                return nil
            }
            return steps
        }
    }

    /// The plugin's stdout ended: a last line without a newline counts too.
    func finish() -> [Step]? {
        state.withLock { s in
            guard s.violation == nil, !s.streaming, !s.pending.isEmpty else { return s.violation == nil ? [] : nil }
            let line = s.pending
            s.pending = []
            var steps: [Step] = []
            return accept(line, into: &steps, &s) ? steps : nil
        }
    }

    private func accept(_ bytes: [UInt8], into steps: inout [Step], _ s: inout State) -> Bool {
        s.lineNumber += 1
        func refuse(_ why: String) -> Bool {
            s.violation = "line \(s.lineNumber) of its output \(why)"
            return false
        }
        if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { return true }
        if s.result != nil || s.failure != nil { return refuse("comes after its \(s.result != nil ? "result" : "error"), which must be the last line") }
        let message: PluginMessage
        do {
            message = try PluginProtocol.decoder().decode(PluginMessage.self, from: Data(bytes))
        } catch {
            let text = String(decoding: bytes.prefix(120), as: UTF8.self)
            return refuse("is not a protocol message (\(Self.reason(error))): \(text)")
        }
        switch message {
        case .progress(let progress):
            steps.append(.event(.progress(progress)))
        case .warning(let text):
            s.notes += 1
            guard s.notes <= Self.maxNotes else { return refuse("is one warning or log line too many (more than \(Self.maxNotes))") }
            steps.append(.event(.warning(text)))
        case .log(let level, let text):
            s.notes += 1
            guard s.notes <= Self.maxNotes else { return refuse("is one warning or log line too many (more than \(Self.maxNotes))") }
            steps.append(.event(.log(level: level, message: text)))
        case .snapshot(let snapshot):
            guard operation == .snapshots else { return refuse("is a snapshot, which only the snapshots operation lists") }
            guard snapshot.host == host else { return refuse("is a snapshot of the host \"\(snapshot.host)\", not of \"\(host)\"") }
            steps.append(.item(.message(message)))
        case .node:
            guard operation == .list else { return refuse("is a node, which only the list operation lists") }
            steps.append(.item(.message(message)))
        case .change:
            guard operation == .diff else { return refuse("is a change, which only the diff operation lists") }
            steps.append(.item(.message(message)))
        case .statistics:
            guard operation == .diff else { return refuse("is diff statistics, which only the diff operation sends") }
            guard !s.statistics else { return refuse("is a second statistics line (diff sends at most one)") }
            s.statistics = true
            steps.append(.item(.message(message)))
        case .stream:
            guard operation == .dump else { return refuse("starts a byte stream, which only dump sends") }
            s.streaming = true
        case .result(let result):
            guard result.answers(operation) else { return refuse("is a result without the \"\(Self.member(operation))\" member that \(operation.rawValue) answers") }
            guard operation != .dump else { return refuse("is a result, but dump answers with a stream line followed by the bytes") }
            s.result = result
        case .error(let failure):
            guard DriverError.Code.all.contains(failure.code) else {
                return refuse("is an error with the unknown code \"\(failure.code.rawValue)\" (known: \(DriverError.Code.all.map(\.rawValue).joined(separator: ", ")))")
            }
            guard !failure.message.isEmpty else { return refuse("is an error without a message") }
            s.failure = failure
        }
        return true
    }

    static func member(_ operation: PluginOperation) -> String {
        switch operation {
        case .describe: "description"
        case .verify: "programs"
        case .status: "initialized"
        default: operation.rawValue
        }
    }

    private static func reason(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "not JSON" }
        switch decoding {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "bad \(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context.codingPath))"
        @unknown default: return "invalid"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the message" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
