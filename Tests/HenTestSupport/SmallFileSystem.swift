import Foundation

/// A tmpfs of a few MiB mounted for one test, to fill up on purpose (a full `data_dir`). Mounting needs
/// root: ``mount(megabytes:)`` returns nil elsewhere, and the test says it skipped.
public final class SmallFileSystem: Sendable {
    public let path: String
    private let filler: String

    private init(path: String) {
        self.path = path
        filler = path + "/filler"
    }

    /// Mounts a fresh tmpfs of `megabytes` MiB at `chosen` (created when missing), by default a new temporary
    /// directory; nil when not root or when the mount fails (a container without CAP_SYS_ADMIN).
    public static func mount(megabytes: Int, at chosen: String? = nil) throws -> SmallFileSystem? {
        guard getuid() == 0 else { return nil }
        let path = chosen ?? FileManager.default.temporaryDirectory.appendingPathComponent("hen-tmpfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            _ = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", path])
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
        return SmallFileSystem(path: path)
    }

    /// Writes a filler file until the file system is full (ENOSPC).
    public func fill() {
        let descriptor = open(filler, O_CREAT | O_WRONLY | O_APPEND, 0o600)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0x68, count: 64 * 1024)
        var size = block.count
        while size > 0 {
            let written = block.withUnsafeBytes { write(descriptor, $0.baseAddress, size) }
            if written < 0 {
                if errno == EINTR { continue }
                // Full: finish the last few KiB with smaller writes.
                size /= 2
            }
        }
    }

    /// Removes the filler: the space is back.
    public func free() {
        unlink(filler)
    }

    /// Bytes free for an ordinary file now.
    public var freeBytes: UInt64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// Unmounts (lazily, should a file still be open) and removes the mount point.
    public func unmount() {
        _ = try? runTool("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}
