/// Cuts a JSON array arriving in pieces into its top-level objects, each handed out as soon as its closing
/// brace arrives, so that `restic snapshots --json` (one array on one line) is decoded incrementally.
/// It tracks strings, escapes and nesting only; each object's own syntax is left to the decoder.
struct JSONArraySplitter: Sendable {
    enum Failure: Error, Equatable {
        case notAnArray
        case trailingData
    }

    private enum Phase: Sendable {
        case beforeArray
        case inArray
        case afterArray
    }

    private var phase = Phase.beforeArray
    private var object: [UInt8] = []
    /// Nesting inside the current element (0: between elements).
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// `null` instead of an array (nothing to list).
    private var nullLiteral: [UInt8] = []

    /// Feeds the next bytes; returns the objects completed by them.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Failure) -> [[UInt8]] {
        var completed: [[UInt8]] = []
        for byte in bytes {
            switch phase {
            case .beforeArray:
                if Self.isWhitespace(byte) { continue }
                if byte == UInt8(ascii: "[") && nullLiteral.isEmpty {
                    phase = .inArray
                } else if Array("null".utf8).starts(with: nullLiteral + [byte]) {
                    nullLiteral.append(byte)
                    if nullLiteral.count == 4 { phase = .afterArray }
                } else {
                    throw .notAnArray
                }
            case .afterArray:
                if !Self.isWhitespace(byte) { throw .trailingData }
            case .inArray:
                if depth == 0 {
                    if byte == UInt8(ascii: "{") {
                        depth = 1
                        object = [byte]
                    } else if byte == UInt8(ascii: "]") {
                        phase = .afterArray
                    }
                    // Commas, whitespace and scalar elements between objects are skipped.
                    continue
                }
                object.append(byte)
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        completed.append(object)
                        object = []
                    }
                default:
                    break
                }
            }
        }
        return completed
    }

    /// Whether the whole array (or `null`) has been read.
    var isComplete: Bool { phase == .afterArray }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
