import Foundation

/// One line of restic's `--json` output (backup, restore, check): status, summary, error or verbose status.
/// Every field is optional: restic versions add fields, and each message type uses a few.
struct ResticMessage: Decodable, Sendable {
    var messageType: String?
    // status (backup, restore)
    var percentDone: Double?
    var totalFiles: UInt64?
    var filesDone: UInt64?
    var totalBytes: UInt64?
    var bytesDone: UInt64?
    var secondsElapsed: Double?
    var secondsRemaining: Double?
    var currentFiles: [String]?
    // summary (backup)
    var filesNew: UInt64?
    var filesChanged: UInt64?
    var filesUnmodified: UInt64?
    var dirsNew: UInt64?
    var dirsChanged: UInt64?
    var dirsUnmodified: UInt64?
    var dataAdded: UInt64?
    var totalFilesProcessed: UInt64?
    var totalBytesProcessed: UInt64?
    var totalDuration: Double?
    var snapshotId: String?
    // summary and status (restore, 0.17+)
    var filesRestored: UInt64?
    var bytesRestored: UInt64?
    // error
    var error: ResticErrorPayload?
    var during: String?
    var item: String?
    // check (0.18+) and others
    var message: String?

    /// A status message as progress (a restore counts restored files and bytes, a backup done ones).
    var progress: Progress {
        Progress(
            fraction: percentDone,
            filesDone: filesRestored ?? filesDone,
            totalFiles: totalFiles,
            bytesDone: bytesRestored ?? bytesDone,
            totalBytes: totalBytes,
            secondsElapsed: secondsElapsed,
            secondsRemaining: secondsRemaining,
            currentFiles: currentFiles ?? []
        )
    }

    static func decode(_ line: String) -> ResticMessage? {
        guard line.first == "{" else { return nil }
        return try? ResticJSON.decoder().decode(ResticMessage.self, from: Data(line.utf8))
    }

    /// An error message as one line: `/proc/self/mem: read: input/output error`.
    var errorText: String {
        var parts: [String] = []
        if let item, !item.isEmpty { parts.append(item) }
        if let error {
            parts.append(error.text)
        } else if let message {
            parts.append(message)
        }
        if parts.isEmpty, let during { parts.append("error during \(during)") }
        return parts.isEmpty ? "unknown error" : parts.joined(separator: ": ")
    }
}

/// What a backup or restore run reported: its summary, and the files it could not handle.
struct ResticRunReport: Sendable {
    var summary: ResticMessage?
    var warnings: [String] = []
}

/// restic 0.14 marshals Go's `*os.PathError` (`{"Op":"read","Path":"/x","Err":5}`); later versions write
/// `{"message": "..."}`.
struct ResticErrorPayload: Decodable, Sendable {
    var message: String?
    var op: String?
    var path: String?
    var errno: Int32?

    // Go's field names, as restic writes them.
    enum CodingKeys: String, CodingKey {
        case message
        case op = "Op"
        case path = "Path"
        case errno = "Err"
    }

    var text: String {
        if let message { return message }
        var words: [String] = []
        if let op { words.append(op) }
        if let errno { words.append(String(cString: strerror(errno)).lowercased()) }
        return words.isEmpty ? "unknown error" : words.joined(separator: ": ")
    }
}

/// A snapshot as `restic snapshots --json` and the first line of `restic ls --json` describe it.
struct ResticSnapshot: Decodable, Sendable {
    var time: Date
    var parent: String?
    var paths: [String]?
    var hostname: String?
    var tags: [String]?
    var id: String
    var shortId: String?
    var structType: String?

    var snapshot: Snapshot {
        Snapshot(id: id, shortID: shortId, time: time, host: hostname ?? "", tags: tags ?? [], paths: paths ?? [], parent: parent)
    }
}

/// A node line of `restic ls --json`.
struct ResticNode: Decodable, Sendable, Equatable {
    var name: String
    var type: String
    var path: String
    var size: UInt64?
    var mode: UInt64?
    var mtime: Date?
    var linktarget: String?
    var structType: String?

    var node: Node {
        let kind: Node.Kind
        switch type {
        case "file": kind = .file
        case "dir": kind = .directory
        case "symlink": kind = .symlink
        default: kind = .other
        }
        return Node(
            path: path,
            name: name,
            kind: kind,
            size: kind == .file ? (size ?? 0) : size,
            mode: mode.map(GoFileMode.permissionBits),
            modificationTime: mtime,
            linkTarget: linktarget
        )
    }
}

/// One group of `restic forget --json`.
struct ResticForgetGroup: Decodable, Sendable {
    var host: String?
    var keep: [ResticSnapshot]?
    var remove: [ResticSnapshot]?
}

/// `restic stats --json`.
struct ResticStats: Decodable, Sendable {
    var totalSize: UInt64?
    var totalFileCount: UInt64?
    var snapshotsCount: UInt64?
}

enum ResticJSON {
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }
}

/// Go's `os.FileMode`: permission bits in the low 9 bits, file type and special bits high up
/// (directory 1<<31, symlink 1<<27, setuid 1<<23, setgid 1<<22, sticky 1<<20).
enum GoFileMode {
    static func permissionBits(_ mode: UInt64) -> UInt32 {
        var bits = UInt32(mode & 0o777)
        if mode & (1 << 23) != 0 { bits |= 0o4000 }
        if mode & (1 << 22) != 0 { bits |= 0o2000 }
        if mode & (1 << 20) != 0 { bits |= 0o1000 }
        return bits
    }
}
