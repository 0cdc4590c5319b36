import Foundation

/// One member of a tar archive as the tar driver writes and reads it.
struct TarEntryHeader: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case file, directory, symlink, other
    }

    /// The member name: the snapshot path without its leading `/` (directories without a trailing `/`).
    var name: String
    var kind: Kind
    var size: UInt64
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var mtimeSeconds: Int64
    var mtimeNanoseconds: Int
    var linkTarget: String?

    /// The path inside the snapshot (`/` + name).
    var snapshotPath: String { "/" + name }

    // MARK: Writing

    /// The header blocks (a PAX extended header when the ustar fields cannot hold a value, then the
    /// ustar header). Data and its padding follow separately.
    func encodedBlocks() -> [UInt8] {
        var memberName = name
        if kind == .directory { memberName += "/" }
        var pax: [(String, String)] = []
        let nameBytes = Array(memberName.utf8)
        if nameBytes.count > 100 { pax.append(("path", memberName)) }
        if let linkTarget, linkTarget.utf8.count > 100 { pax.append(("linkpath", linkTarget)) }
        let maxOctal11: UInt64 = 0o77777777777
        if size > maxOctal11 { pax.append(("size", String(size))) }
        if mtimeNanoseconds != 0 || mtimeSeconds < 0 || mtimeSeconds > Int64(maxOctal11) {
            pax.append(("mtime", Self.paxTime(seconds: mtimeSeconds, nanoseconds: mtimeNanoseconds)))
        }
        var out: [UInt8] = []
        if !pax.isEmpty {
            var records: [UInt8] = []
            for (key, value) in pax { records.append(contentsOf: Self.paxRecord(key, value)) }
            out.append(contentsOf: Self.ustarBlock(
                name: Array("././@PaxHeader".utf8), typeflag: UInt8(ascii: "x"), size: UInt64(records.count),
                mode: 0o644, uid: 0, gid: 0, mtime: max(0, min(mtimeSeconds, Int64(maxOctal11))), linkName: []
            ))
            out.append(contentsOf: records)
            out.append(contentsOf: repeatElement(0, count: Self.padding(UInt64(records.count))))
        }
        let typeflag: UInt8 = switch kind {
        case .file: UInt8(ascii: "0")
        case .directory: UInt8(ascii: "5")
        case .symlink: UInt8(ascii: "2")
        case .other: UInt8(ascii: "0")
        }
        out.append(contentsOf: Self.ustarBlock(
            name: Array(nameBytes.prefix(100)),
            typeflag: typeflag,
            size: kind == .file ? min(size, maxOctal11) : 0,
            mode: mode & 0o7777,
            uid: uid,
            gid: gid,
            mtime: max(0, min(mtimeSeconds, Int64(maxOctal11))),
            linkName: Array((linkTarget ?? "").utf8.prefix(100))
        ))
        return out
    }

    /// Zero bytes that round `size` up to whole 512-byte blocks.
    static func padding(_ size: UInt64) -> Int {
        Int((512 - size % 512) % 512)
    }

    /// The two zero blocks that end an archive.
    static let endOfArchive = [UInt8](repeating: 0, count: 1024)

    private static func paxTime(seconds: Int64, nanoseconds: Int) -> String {
        guard nanoseconds != 0 else { return String(seconds) }
        var fraction = String(nanoseconds)
        fraction = String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if seconds < 0 {
            // PAX times are a signed decimal: -1.5 is half a second before -1.
            let total = Double(seconds) + Double(nanoseconds) / 1e9
            return String(format: "%.9f", total)
        }
        return "\(seconds).\(fraction)"
    }

    /// "<length> <key>=<value>\n" where length counts the whole record including its own digits.
    private static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        let bodyLength = body.utf8.count
        var length = bodyLength + 1
        while length != bodyLength + String(length).count { length = bodyLength + String(length).count }
        return Array("\(length)\(body)".utf8)
    }

    private static func ustarBlock(name: [UInt8], typeflag: UInt8, size: UInt64, mode: UInt32, uid: UInt32, gid: UInt32, mtime: Int64, linkName: [UInt8]) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, byte) in bytes.prefix(width).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            put(Array(padded.utf8), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(UInt64(mode), at: 100, width: 8)
        octal(UInt64(min(uid, 0o7777777)), at: 108, width: 8)
        octal(UInt64(min(gid, 0o7777777)), at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(UInt64(mtime), at: 136, width: 12)
        block[156] = typeflag
        put(linkName, at: 157, width: 100)
        put(Array("ustar\0".utf8), at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        // The checksum is computed with its own field as spaces.
        for i in 148..<156 { block[i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + UInt64($1) }
        let digits = String(sum, radix: 8)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        put(Array(padded.utf8), at: 148, width: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return block
    }
}
