import Foundation

/// Reads one node line of `restic ls --json` without `JSONDecoder`: a flat object whose few keys Hen reads
/// are picked out as the bytes go by, and anything else (other keys, nested values) is skipped.
///
/// Indexing a snapshot decodes every node line, and `JSONDecoder` with snake-case keys and a custom date
/// was most of Hen's own time there (a 200,000-file snapshot's first tree page took 1.44× `restic ls
/// --json`; see BENCHMARKS.md). Answers exactly what `JSONDecoder` would for well-formed lines; a line it
/// does not understand (a number with a fraction where an integer goes, an unexpected type, broken JSON)
/// is nil, and the caller asks `JSONDecoder`, so nothing depends on this reader being complete.
enum ResticNodeLine {
    static func parse(_ line: String) -> ResticNode? {
        var line = line
        return line.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> ResticNode? {
        var reader = Reader(bytes: bytes)
        var name: String?
        var type: String?
        var path: String?
        var size: UInt64?
        var mode: UInt64?
        var mtime: Date?
        var linkTarget: String?
        var structType: String?
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        reader.skipSpace()
        if !reader.take(UInt8(ascii: "}")) {
            while true {
                guard let key = reader.rawKey() else { return nil }
                reader.skipSpace()
                guard reader.take(UInt8(ascii: ":")) else { return nil }
                reader.skipSpace()
                // Keys JSONDecoder would read after converting from snake case; `null` is "absent".
                switch key {
                case .name: guard reader.optionalString(into: &name) else { return nil }
                case .type: guard reader.optionalString(into: &type) else { return nil }
                case .path: guard reader.optionalString(into: &path) else { return nil }
                case .linktarget: guard reader.optionalString(into: &linkTarget) else { return nil }
                case .structType: guard reader.optionalString(into: &structType) else { return nil }
                case .size: guard reader.optionalUnsigned(into: &size) else { return nil }
                case .mode: guard reader.optionalUnsigned(into: &mode) else { return nil }
                case .mtime:
                    var text: String?
                    guard reader.optionalString(into: &text) else { return nil }
                    if let text {
                        guard let date = RFC3339.date(from: text) else { return nil }
                        mtime = date
                    } else {
                        mtime = nil
                    }
                case .other:
                    guard reader.skipValue(depth: 0) else { return nil }
                }
                reader.skipSpace()
                if reader.take(UInt8(ascii: ",")) {
                    reader.skipSpace()
                    continue
                }
                guard reader.take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        reader.skipSpace()
        guard reader.atEnd, let name, let type, let path else { return nil }
        return ResticNode(name: name, type: type, path: path, size: size, mode: mode, mtime: mtime, linktarget: linkTarget, structType: structType)
    }

    enum Key {
        case name, type, path, size, mode, mtime, linktarget, structType, other
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func takeLiteral(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// A key without escapes, recognised; a key with escapes is `.other` only if it cannot be one of
        /// Hen's keys, so such lines go to JSONDecoder (nil).
        mutating func rawKey() -> Key? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\") || bytes[index] < 0x20 { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let key = UnsafeBufferPointer(rebasing: bytes[start..<index])
            index += 1
            func equals(_ literal: StaticString) -> Bool {
                key.count == literal.utf8CodeUnitCount && memcmp(key.baseAddress!, literal.utf8Start, key.count) == 0
            }
            if equals("name") { return .name }
            if equals("type") { return .type }
            if equals("path") { return .path }
            if equals("size") { return .size }
            if equals("mode") { return .mode }
            if equals("mtime") { return .mtime }
            if equals("linktarget") { return .linktarget }
            if equals("struct_type") { return .structType }
            // Keys JSONDecoder's snake-case conversion would map onto one of these ("_name", "struct__type",
            // "structType") are left to JSONDecoder.
            func resembles(_ known: StaticString) -> Bool {
                var position = 0
                for byte in key where byte != UInt8(ascii: "_") {
                    guard position < known.utf8CodeUnitCount, byte | 0x20 == known.utf8Start[position] else { return false }
                    position += 1
                }
                return position == known.utf8CodeUnitCount
            }
            if resembles("name") || resembles("type") || resembles("path") || resembles("size") || resembles("mode")
                || resembles("mtime") || resembles("linktarget") || resembles("structtype") {
                return nil
            }
            return .other
        }

        mutating func optionalString(into value: inout String?) -> Bool {
            if takeLiteral("null") {
                value = nil
                return true
            }
            guard let string = string() else { return false }
            value = string
            return true
        }

        mutating func optionalUnsigned(into value: inout UInt64?) -> Bool {
            if takeLiteral("null") {
                value = nil
                return true
            }
            let start = index
            var number: UInt64 = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - 0x30))
                guard !overflow1, !overflow2 else { return false }
                number = sum
                index += 1
            }
            // No digits, a leading zero before more digits, a fraction or an exponent: JSONDecoder decides.
            guard index > start, !(bytes[start] == 0x30 && index - start > 1) else { return false }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { return false }
            value = number
            return true
        }

        /// A JSON string, escapes decoded; nil if it is not one.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { return nil }
                index += 1
            }
            // With escapes: the bytes so far, then one piece at a time.
            var scalars = String.UnicodeScalarView()
            var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            func flush() {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hex4() else { return nil }
                        var scalar: Unicode.Scalar?
                        if (0xD800..<0xDC00).contains(unit) {
                            // A high surrogate needs its low half; a lone one is what JSONDecoder refuses too.
                            guard takeLiteral("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        } else {
                            scalar = Unicode.Scalar(unit)
                        }
                        guard let scalar else { return nil }
                        flush()
                        scalars.append(scalar)
                    default:
                        return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    utf8.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: return nil
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// Skips any JSON value; false if it is not well formed.
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < 64, index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                index += 1
                skipSpace()
                if take(close) { return true }
                while true {
                    if isObject {
                        guard string() != nil else { return false }
                        skipSpace()
                        guard take(UInt8(ascii: ":")) else { return false }
                        skipSpace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    return take(close)
                }
            case UInt8(ascii: "t"): return takeLiteral("true")
            case UInt8(ascii: "f"): return takeLiteral("false")
            case UInt8(ascii: "n"): return takeLiteral("null")
            default:
                // A number: JSON's grammar, loosely (JSONDecoder is not asked about keys Hen ignores).
                let start = index
                while index < bytes.count, "+-.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
                return index > start
            }
        }
    }
}
