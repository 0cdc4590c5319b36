import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Walks the backup paths and writes the uncompressed archive and the manifest side by side, hashing
/// each file while its bytes go into the archive (each file is read once).
final class TarSnapshotWriter {
    private let archive: BufferedFileWriter
    private let manifest: BufferedFileWriter
    private let matcher: ExcludeMatcher
    private var emittedAncestors: Set<String> = []
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)

    private(set) var files: UInt64 = 0
    private(set) var directories: UInt64 = 0
    private(set) var bytes: UInt64 = 0
    private(set) var warnings: [String] = []
    private(set) var wasCancelled = false

    init(archivePath: String, manifestPath: String, header: TarManifest.Header, matcher: ExcludeMatcher) throws {
        archive = try BufferedFileWriter(creating: archivePath)
        manifest = try BufferedFileWriter(creating: manifestPath)
        self.matcher = matcher
        try manifest.write(TarManifest.encode(header))
    }

    /// Adds one backup path with its ancestors (as restic records them) and, unless excluded, its tree.
    /// Returns false when the task was cancelled.
    func add(root: String, events: DriverEventHandler) throws -> Bool {
        var ancestor = ""
        for component in root.split(separator: "/").dropLast() {
            ancestor += "/" + component
            if emittedAncestors.insert(ancestor).inserted {
                // Ancestors are followed and stored as directories (as restic does): a symlink member
                // above the tree would make extraction write through it.
                guard try addTree(ancestor, recurse: false, followLinks: true, events: events) else { return false }
            }
        }
        if matcher.excludes(root) { return true }
        emittedAncestors.insert(root)
        return try addTree(root, recurse: true, followLinks: false, events: events)
    }

    func finish() throws {
        try archive.write(TarEntryHeader.endOfArchive)
        try archive.finish()
        try manifest.finish()
    }

    private func addTree(_ top: String, recurse: Bool, followLinks: Bool, events: DriverEventHandler) throws -> Bool {
        var stack = [top]
        while let path = stack.popLast() {
            if Task.isCancelled {
                wasCancelled = true
                return false
            }
            var info = stat()
            guard (followLinks ? stat(path, &info) : lstat(path, &info)) == 0 else {
                warn(events, "\(path): \(String(cString: strerror(errno)))")
                continue
            }
            let type = info.st_mode & S_IFMT
            switch type {
            case S_IFDIR:
                if path != "/" {
                    try append(header(path, .directory, info, size: 0), sha256: nil)
                    directories += 1
                }
                guard recurse else { continue }
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path)
                } catch {
                    warn(events, "\(path): the directory could not be read")
                    continue
                }
                let base = path == "/" ? "" : path
                for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).reversed() {
                    let child = base + "/" + name
                    if !matcher.excludes(child) { stack.append(child) }
                }
            case S_IFLNK:
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else {
                    warn(events, "\(path): the link could not be read")
                    continue
                }
                var entry = header(path, .symlink, info, size: 0)
                entry.linkTarget = target
                try append(entry, sha256: nil)
            case S_IFREG:
                try addFile(path, events: events)
            case S_IFSOCK:
                continue // sockets cannot be restored; restic skips them too
            default:
                warn(events, "\(path): special files (devices, FIFOs) are not stored by the tar driver")
            }
        }
        return true
    }

    private func addFile(_ path: String, events: DriverEventHandler) throws {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            warn(events, "\(path): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            warn(events, "\(path): the file changed type while being read")
            return
        }
        let size = UInt64(max(0, info.st_size))
        try archive.write(header(path, .file, info, size: size).encodedBlocks())
        var hash = SHA256()
        var remaining = size
        while remaining > 0 {
            // A big file is not read to its end once the job is cancelled: the archive is discarded anyway.
            if Task.isCancelled {
                wasCancelled = true
                throw CancellationError()
            }
            let want = Int(min(UInt64(chunk.count), remaining))
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 {
                // The file shrank (or failed) after its size went into the header: pad, so the archive
                // stays well-formed and the checksum describes exactly what was stored.
                warn(events, "\(path): the file changed while being read; \(remaining) missing bytes were stored as zeros")
                let zeros = [UInt8](repeating: 0, count: Int(min(remaining, UInt64(chunk.count))))
                while remaining > 0 {
                    let piece = zeros.prefix(Int(min(remaining, UInt64(zeros.count))))
                    try archive.write(piece)
                    hash.update(piece)
                    remaining -= UInt64(piece.count)
                }
                break
            }
            let piece = chunk[0..<count]
            try archive.write(piece)
            hash.update(piece)
            remaining -= UInt64(count)
            bytes += UInt64(count)
        }
        try archive.write(repeatElement(0, count: TarEntryHeader.padding(size)))
        var entry = header(path, .file, info, size: size)
        entry.size = size
        try manifest.write(TarManifest.encode(TarManifest.Entry(header: entry, sha256: hash.finalizeHex())))
        files += 1
        events(.progress(Progress(filesDone: files, bytesDone: bytes, currentFiles: [path])))
    }

    private func append(_ entry: TarEntryHeader, sha256: String?) throws {
        try archive.write(entry.encodedBlocks())
        try manifest.write(TarManifest.encode(TarManifest.Entry(header: entry, sha256: sha256)))
    }

    private func header(_ path: String, _ kind: TarEntryHeader.Kind, _ info: stat, size: UInt64) -> TarEntryHeader {
        TarEntryHeader(
            name: String(path.drop { $0 == "/" }),
            kind: kind,
            size: size,
            mode: UInt32(info.st_mode) & 0o7777,
            uid: info.st_uid,
            gid: info.st_gid,
            mtimeSeconds: Int64(info.st_mtim.tv_sec),
            mtimeNanoseconds: Int(info.st_mtim.tv_nsec),
            linkTarget: nil
        )
    }

    private func warn(_ events: DriverEventHandler, _ message: String) {
        // The summary keeps the first thousand; every one still goes out as an event.
        if warnings.count < 1000 { warnings.append(message) }
        events(.warning(message))
    }
}
