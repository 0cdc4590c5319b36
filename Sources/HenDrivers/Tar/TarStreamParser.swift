import Foundation

/// Reads a tar stream fed in chunks of any size (ustar with PAX and GNU long-name extensions), so that
/// archives are checked and dumped while they decompress, never held whole.
struct TarStreamParser {
    enum Event {
        case entry(TarEntryHeader)
        /// A piece of the current entry's data.
        case data(ArraySlice<UInt8>)
        case entryEnd
        /// The end-of-archive marker was reached; later input is ignored.
        case end
    }

    struct Malformed: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    private enum State {
        case header
        case data(remaining: UInt64, padding: Int)
        case extended(kind: UInt8, remaining: Int, padding: Int)
        case done
    }

    private var buffer: [UInt8] = []
    private var position = 0
    private var state: State = .header
    private var extendedBytes: [UInt8] = []
    private var pax: [String: String] = [:]
    private var longName: String?
    private var longLink: String?

    var isFinished: Bool { if case .done = state { true } else { false } }

    mutating func feed(_ chunk: [UInt8]) throws(Malformed) -> [Event] {
        if position > 0, position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        } else if position > 1 << 20 {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: chunk)
        var events: [Event] = []
        loop: while true {
            let available = buffer.count - position
            switch state {
            case .done:
                position = buffer.count
                break loop
            case .header:
                guard available >= 512 else { break loop }
                let block = buffer[position..<(position + 512)]
                position += 512
                if block.allSatisfy({ $0 == 0 }) {
                    state = .done
                    events.append(.end)
                    continue
                }
                try handleHeader(block, events: &events)
            case .data(let remaining, let padding):
                if remaining > 0 {
                    guard available > 0 else { break loop }
                    let take = Int(min(UInt64(available), remaining))
                    events.append(.data(buffer[position..<(position + take)]))
                    position += take
                    state = .data(remaining: remaining - UInt64(take), padding: padding)
                } else {
                    guard available >= padding else { break loop }
                    position += padding
                    state = .header
                    events.append(.entryEnd)
                }
            case .extended(let kind, let remaining, let padding):
                guard available >= remaining + padding else { break loop }
                let bytes = Array(buffer[position..<(position + remaining)])
                position += remaining + padding
                state = .header
                try applyExtended(kind: kind, bytes)
            }
        }
        return events
    }

    private mutating func handleHeader(_ block: ArraySlice<UInt8>, events: inout [Event]) throws(Malformed) {
        let base = block.startIndex
        func field(_ offset: Int, _ width: Int) -> ArraySlice<UInt8> {
            let slice = block[(base + offset)..<(base + offset + width)]
            if let nul = slice.firstIndex(of: 0) { return slice[slice.startIndex..<nul] }
            return slice
        }
        func string(_ offset: Int, _ width: Int) -> String {
            String(decoding: field(offset, width), as: UTF8.self)
        }
        func number(_ offset: Int, _ width: Int) throws(Malformed) -> UInt64 {
            let raw = block[(base + offset)..<(base + offset + width)]
            if let first = raw.first, first & 0x80 != 0 {
                // GNU base-256 for values that do not fit in octal.
                var value: UInt64 = UInt64(first & 0x7f)
                for byte in raw.dropFirst() { value = value << 8 | UInt64(byte) }
                return value
            }
            let text = String(decoding: field(offset, width), as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " "))
            if text.isEmpty { return 0 }
            guard let value = UInt64(text, radix: 8) else { throw Malformed(reason: "a tar header has a malformed number") }
            return value
        }

        let stored = try number(148, 8)
        var sum: UInt64 = 0
        for (i, byte) in block.enumerated() { sum += (148..<156).contains(i) ? 32 : UInt64(byte) }
        guard stored == sum else { throw Malformed(reason: "a tar header's checksum does not match") }

        let typeflag = block[base + 156]
        var size = try number(124, 12)
        switch typeflag {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size < 1 << 24 else { throw Malformed(reason: "a tar extended header is implausibly large") }
            state = .extended(kind: typeflag, remaining: Int(size), padding: TarEntryHeader.padding(size))
            return
        default:
            break
        }

        var name = string(0, 100)
        let prefix = string(345, 155)
        // Only POSIX ustar has a prefix field; GNU's "ustar  " keeps times there.
        if block[(base + 257)..<(base + 263)].elementsEqual("ustar\0".utf8), !prefix.isEmpty {
            name = prefix + "/" + name
        }
        if let longName { name = longName }
        if let path = pax["path"] { name = path }
        var linkTarget = string(157, 100)
        if let longLink { linkTarget = longLink }
        if let linkpath = pax["linkpath"] { linkTarget = linkpath }
        if let paxSize = pax["size"], let value = UInt64(paxSize) { size = value }
        var seconds = Int64(try number(136, 12))
        var nanoseconds = 0
        if let mtime = pax["mtime"] { (seconds, nanoseconds) = Self.parseTime(mtime) ?? (seconds, 0) }

        let kind: TarEntryHeader.Kind
        switch typeflag {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symlink
        default: kind = .other
        }
        while name.hasSuffix("/") { name.removeLast() }
        while name.hasPrefix("/") { name.removeFirst() }
        while name.hasPrefix("./") { name.removeFirst(2) }

        let header = TarEntryHeader(
            name: name,
            kind: kind,
            size: kind == .directory || kind == .symlink ? 0 : size,
            mode: UInt32(try number(100, 8) & 0o7777),
            uid: UInt32(truncatingIfNeeded: try number(108, 8)),
            gid: UInt32(truncatingIfNeeded: try number(116, 8)),
            mtimeSeconds: seconds,
            mtimeNanoseconds: nanoseconds,
            linkTarget: kind == .symlink ? linkTarget : nil
        )
        pax = [:]
        longName = nil
        longLink = nil
        events.append(.entry(header))
        let dataSize = kind == .directory || kind == .symlink ? 0 : size
        state = .data(remaining: dataSize, padding: TarEntryHeader.padding(dataSize))
    }

    private mutating func applyExtended(kind: UInt8, _ bytes: [UInt8]) throws(Malformed) {
        switch kind {
        case UInt8(ascii: "L"):
            longName = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        case UInt8(ascii: "K"):
            longLink = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        case UInt8(ascii: "x"):
            var index = 0
            while index < bytes.count {
                guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                      let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)),
                      length > 0, index + length <= bytes.count
                else { throw Malformed(reason: "a PAX extended header is malformed") }
                let record = bytes[(space + 1)..<(index + length - 1)]
                if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                    let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
                    let value = String(decoding: record[(equals + 1)...], as: UTF8.self)
                    pax[key] = value
                }
                index += length
            }
        default:
            break // global headers carry nothing the driver uses
        }
    }

    static func parseTime(_ text: String) -> (Int64, Int)? {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard let first = parts.first, let seconds = Int64(first) else { return nil }
        guard parts.count == 2 else { return (seconds, 0) }
        let digits = String(parts[1].prefix(9))
        let padded = digits + String(repeating: "0", count: 9 - digits.count)
        guard let fraction = Int(padded) else { return (seconds, 0) }
        if first.hasPrefix("-"), fraction > 0 { return (seconds - 1, 1_000_000_000 - fraction) }
        return (seconds, fraction)
    }
}
