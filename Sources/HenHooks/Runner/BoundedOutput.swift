import Synchronization

/// Keeps a hook's output within `limit` bytes: the first half and the most recent half, with a marker
/// saying how much was left out between them. Lines come from two streams at once, hence the Mutex.
final class BoundedOutput: Sendable {
    private struct State {
        var head: [String] = []
        var headBytes = 0
        var tail: [String] = []
        var tailStart = 0
        var tailBytes = 0
        var omittedBytes = 0
        var truncated = false
    }

    private let state = Mutex(State())
    private let half: Int

    init(limit: Int) {
        half = max(64, limit / 2)
    }

    func append(_ rawLine: String) {
        var line = rawLine
        if line.utf8.count > half {
            line = String(decoding: line.utf8.prefix(half), as: UTF8.self) + " …"
        }
        let size = line.utf8.count + 1
        state.withLock { s in
            if line != rawLine { s.truncated = true }
            if s.headBytes + size <= half && s.tail.isEmpty {
                s.head.append(line)
                s.headBytes += size
                return
            }
            s.tail.append(line)
            s.tailBytes += size
            while s.tailBytes > half, s.tailStart < s.tail.count {
                let dropped = s.tail[s.tailStart].utf8.count + 1
                s.tailBytes -= dropped
                s.omittedBytes += dropped
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
            lines += s.tail[s.tailStart...]
            return (lines.joined(separator: "\n"), s.truncated)
        }
    }
}
