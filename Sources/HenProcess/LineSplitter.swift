/// Cuts a byte stream into lines of any length (or at most `maxLineBytes`: the rest of a longer line is
/// dropped, so a child that never writes a newline cannot fill the memory). Invalid UTF-8 is repaired
/// (U+FFFD), a trailing CR of a CRLF pair is dropped, and a last line without a newline is delivered by
/// `finish()`.
struct LineSplitter: Sendable {
    private var pending: [UInt8] = []
    private var maxLineBytes: Int?
    /// The current line passed the limit: its rest is dropped up to the next newline.
    private var overflowing = false

    init(maxLineBytes: Int? = nil) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if let maxLineBytes, overflowing || pending.count + (newline - start) > maxLineBytes {
                if !overflowing { pending.append(contentsOf: bytes[start..<min(newline, start + max(0, maxLineBytes - pending.count))]) }
                lines.append(Self.decode(pending[...]) + " [line cut at \(maxLineBytes) bytes]")
                pending.removeAll(keepingCapacity: true)
                overflowing = false
                start = newline + 1
                continue
            }
            if pending.isEmpty {
                lines.append(Self.decode(bytes[start..<newline]))
            } else {
                pending.append(contentsOf: bytes[start..<newline])
                lines.append(Self.decode(pending[...]))
                pending.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        if let maxLineBytes {
            guard !overflowing else { return lines }
            let room = max(0, maxLineBytes - pending.count)
            pending.append(contentsOf: bytes[start..<min(bytes.endIndex, start + room)])
            if bytes.endIndex - start > room { overflowing = true }
        } else {
            pending.append(contentsOf: bytes[start...])
        }
        return lines
    }

    mutating func finish() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll(); overflowing = false }
        return Self.decode(pending[...]) + (overflowing ? " [line cut at \(maxLineBytes ?? 0) bytes]" : "")
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
