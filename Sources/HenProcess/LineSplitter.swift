/// Cuts a byte stream into lines of any length. Invalid UTF-8 is repaired (U+FFFD), a trailing CR of a
/// CRLF pair is dropped, and a last line without a newline is delivered by `finish()`.
struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if pending.isEmpty {
                lines.append(Self.decode(bytes[start..<newline]))
            } else {
                pending.append(contentsOf: bytes[start..<newline])
                lines.append(Self.decode(pending[...]))
                pending.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        pending.append(contentsOf: bytes[start...])
        return lines
    }

    mutating func finish() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return Self.decode(pending[...])
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var line = bytes
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return String(decoding: line, as: UTF8.self)
    }
}

/// The last `capacity` lines.
struct LineTail: Sendable {
    private(set) var lines: [String] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = max(0, capacity) }

    mutating func append(_ line: String) {
        guard capacity > 0 else { return }
        if lines.count == capacity { lines.removeFirst() }
        lines.append(line)
    }
}
