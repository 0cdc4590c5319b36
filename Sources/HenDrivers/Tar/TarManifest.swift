import Foundation

/// The JSON lines of `<repo>/snapshots/<id>.manifest.jsonl`: a snapshot header first, then one node per
/// archive member, in archive order.
enum TarManifest {
    static let formatVersion = 1

    struct Header: Codable, Sendable {
        var type: String = "snapshot"
        var version: Int = TarManifest.formatVersion
        var id: String
        /// ISO 8601 with fractional seconds.
        var time: String
        var host: String
        var tags: [String]
        var paths: [String]

        var snapshot: Snapshot? {
            guard let date = TarManifest.parseTime(time) else { return nil }
            return Snapshot(id: id, time: date, host: host, tags: tags, paths: paths)
        }
    }

    struct Entry: Codable, Sendable {
        var path: String
        var kind: String
        var size: UInt64?
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var mtime: Int64
        var mtimeNanoseconds: Int
        var sha256: String?
        var linkTarget: String?

        // The manifest's keys as written in tar repositories since the first one (not HenJSON's convention,
        // which is for what Hen shows and sends; `mtime_ns` is no snake_case spelling of a Swift name).
        enum CodingKeys: String, CodingKey {
            case path, kind, size, mode, uid, gid, mtime, sha256
            case mtimeNanoseconds = "mtime_ns"
            case linkTarget = "link_target"
        }

        init(header: TarEntryHeader, sha256: String?) {
            path = header.snapshotPath
            kind = switch header.kind {
            case .file: "file"
            case .directory: "dir"
            case .symlink: "symlink"
            case .other: "other"
            }
            size = header.kind == .file ? header.size : nil
            mode = header.mode
            uid = header.uid
            gid = header.gid
            mtime = header.mtimeSeconds
            mtimeNanoseconds = header.mtimeNanoseconds
            self.sha256 = sha256
            linkTarget = header.linkTarget
        }

        var nodeKind: Node.Kind {
            switch kind {
            case "file": .file
            case "dir": .directory
            case "symlink": .symlink
            default: .other
            }
        }

        var node: Node {
            Node(
                path: path,
                kind: nodeKind,
                size: size,
                mode: mode,
                modificationTime: Date(timeIntervalSince1970: Double(mtime) + Double(mtimeNanoseconds) / 1e9),
                linkTarget: linkTarget
            )
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(value))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static func decode<T: Decodable>(_ type: T.Type, from line: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(line))
    }

    static func formatTime(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func parseTime(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
