import Synchronization

/// Keeps a hook's output within `limit` bytes: the first half and the most recent half, with a marker
/// saying how many bytes of the output were left out between them. A line longer than a quarter of the
/// limit keeps its first and last bytes around a marker counting what its middle held, so that one huge line
/// (a dump printed to stdout) still shows how it starts and ends. Lines come from two streams at once, hence
/// the Mutex.
final class BoundedOutput: Sendable {
    private struct Line {
        var text: String
        /// What the line weighed before it was shortened, newline included: what dropping it leaves out.
        var originalBytes: Int
    }

    private struct State {
        var head: [String] = []
        var headBytes = 0
        var tail: [Line] = []
        var tailStart = 0
        var tailBytes = 0
        var omittedBytes = 0
        var truncated = false
    }

    private let state = Mutex(State())
    private let half: Int
    /// The longest line kept whole.
    private let lineLimit: Int

    init(limit: Int) {
        half = max(64, limit / 2)
        lineLimit = max(32, half / 2)
    }

    func append(_ rawLine: String) {
        let originalBytes = rawLine.utf8.count + 1
        let line = Self.shorten(rawLine, limit: lineLimit)
        let size = line.utf8.count + 1
        state.withLock { s in
            if line.utf8.count != rawLine.utf8.count { s.truncated = true }
            if s.headBytes + size <= half && s.tail.isEmpty {
                s.head.append(line)
                s.headBytes += size
                return
            }
            s.tail.append(Line(text: line, originalBytes: originalBytes))
            s.tailBytes += size
            while s.tailBytes > half, s.tailStart < s.tail.count - 1 {
                let dropped = s.tail[s.tailStart]
                s.tailBytes -= dropped.text.utf8.count + 1
                s.omittedBytes += dropped.originalBytes
                s.tailStart += 1
                s.truncated = true
            }
            if s.tailStart > 256 {  // compact now and then instead of removing from the front each time
                s.tail.removeFirst(s.tailStart)
                s.tailStart = 0
            }
        }
    }

    /// The kept text (lines joined by newlines) and whether anything was left out.
    var text: (output: String, truncated: Bool) {
        state.withLock { s in
            var lines = s.head
            if s.omittedBytes > 0 { lines.append("… \(s.omittedBytes) bytes of output omitted …") }
            lines += s.tail[s.tailStart...].map(\.text)
            return (lines.joined(separator: "\n"), s.truncated)
        }
    }

    /// `line` itself when it has at most `limit` bytes; otherwise its first and last `limit / 2` bytes (cut
    /// between characters) around "… N bytes omitted …", N counting exactly the bytes left out.
    static func shorten(_ line: String, limit: Int) -> String {
        let bytes = Array(line.utf8)
        guard bytes.count > limit else { return line }
        func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
        var headEnd = limit / 2
        while headEnd > 0 && isContinuation(bytes[headEnd]) { headEnd -= 1 }
        var tailStart = bytes.count - limit / 2
        while tailStart < bytes.count && isContinuation(bytes[tailStart]) { tailStart += 1 }
        return String(decoding: bytes[..<headEnd], as: UTF8.self) + " … \(tailStart - headEnd) bytes omitted … "
            + String(decoding: bytes[tailStart...], as: UTF8.self)
    }
}
