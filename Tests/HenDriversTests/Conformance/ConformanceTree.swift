import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The source tree every driver backs up: odd names (spaces, unicode), nesting, a symlink, an empty file,
/// specific modes and modification times, and a file the excludes leave out.
struct ConformanceTree {
    static let rootName = "hen conformance ✓ src"
    static let plainContents = "hello from the conformance suite\n"

    struct Item {
        enum Kind { case file([UInt8]), directory, symlink(String) }
        let relative: String
        let kind: Kind
        let mode: UInt32
        let mtime: Int64
    }

    let root: URL
    let items: [Item]
    /// Excluded by `excludes`; must never reach a snapshot.
    static let excluded = ["scratch.tmp", "nested/cache.tmp"]
    static let excludes = ["*.tmp"]

    init(in directory: URL) throws {
        root = directory.appendingPathComponent(Self.rootName)
        var random = SystemRandomNumberGenerator()
        let binary = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        items = [
            Item(relative: "plain.txt", kind: .file(Array(Self.plainContents.utf8)), mode: 0o644, mtime: 1_577_934_245),
            Item(relative: "with space.txt", kind: .file(Array("spaces are fine\n".utf8)), mode: 0o600, mtime: 1_600_000_000),
            Item(relative: "ünïcødé 文件.txt", kind: .file(Array("unicode name\n".utf8)), mode: 0o640, mtime: 1_610_000_000),
            Item(relative: "empty", kind: .file([]), mode: 0o444, mtime: 1_620_000_000),
            Item(relative: "run.sh", kind: .file(Array("#!/bin/sh\necho hi\n".utf8)), mode: 0o755, mtime: 1_630_000_000),
            Item(relative: "link to plain", kind: .symlink("plain.txt"), mode: 0o777, mtime: 0),
            Item(relative: "nested", kind: .directory, mode: 0o750, mtime: 1_500_000_000),
            Item(relative: "nested/dir with space", kind: .directory, mode: 0o700, mtime: 1_510_000_000),
            Item(relative: "nested/dir with space/data.bin", kind: .file(binary), mode: 0o600, mtime: 1_520_000_000),
            Item(relative: "nested/deeper", kind: .directory, mode: 0o755, mtime: 1_530_000_000),
            Item(relative: "nested/deeper/notes.md", kind: .file(Array("# notes\n".utf8)), mode: 0o664, mtime: 1_540_000_000),
        ]
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for item in items {
            let path = root.appendingPathComponent(item.relative).path
            switch item.kind {
            case .directory:
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            case .file(let bytes):
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            case .symlink(let target):
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
            }
        }
        for name in Self.excluded {
            try Data("temporary\n".utf8).write(to: root.appendingPathComponent(name))
        }
        // Modes and times last, deepest first, so creating children does not move a directory's mtime.
        for item in items.sorted(by: { $0.relative.count > $1.relative.count }) {
            if case .symlink = item.kind { continue }
            let path = root.appendingPathComponent(item.relative).path
            chmod(path, mode_t(item.mode))
            try Self.setModificationTime(path, seconds: item.mtime)
        }
        chmod(root.path, 0o755)
        try Self.setModificationTime(root.path, seconds: 1_400_000_000)
    }

    var files: [Item] { items.filter { if case .file = $0.kind { true } else { false } } }

    func item(_ relative: String) -> Item? { items.first { $0.relative == relative } }

    func contents(_ relative: String) -> [UInt8]? {
        if case .file(let bytes)? = item(relative)?.kind { return bytes }
        return nil
    }

    static func setModificationTime(_ path: String, seconds: Int64) throws {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw ConformanceShell.Failed(description: "utimensat \(path) failed")
        }
    }

    /// The part of a snapshot path below the tree's root ("" for the root itself); nil outside it.
    /// Drivers differ above the root (restic 0.14 keeps only the last component), so the suite compares
    /// from the root down.
    static func relative(_ snapshotPath: String) -> String? {
        let marker = "/" + rootName
        guard let range = snapshotPath.range(of: marker, options: .backwards) else { return nil }
        let rest = snapshotPath[range.upperBound...]
        if rest.isEmpty { return "" }
        guard rest.hasPrefix("/") else { return nil }
        return String(rest.dropFirst())
    }
}
