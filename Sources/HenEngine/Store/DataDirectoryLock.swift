#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// One process's claim on a data directory: the daemon, and a command that runs a job in-process, hold
/// it for as long as they live, so two of them never record over each other's jobs (a second daemon once
/// marked the first one's running backup `interrupted` and unlocked its repository).
///
/// An `flock` on `data_dir/hen.lock`, which the kernel drops when the process ends, even by `kill -9`: a
/// crash never leaves a stale claim. The descriptor is close-on-exec, so restic and hooks never inherit
/// it and cannot keep the claim alive after the daemon is gone. The holder writes its PID and role in the
/// file, for the sentence the next process prints. Readers (`status`, `jobs`, `snapshots`) take no claim.
public final class DataDirectoryLock: Sendable {
    /// `data_dir/hen.lock`.
    public let path: String
    private let descriptor: Int32

    /// Takes the claim or throws `.dataDirectoryInUse` naming the holder, having changed nothing but
    /// creating the directory and the lock file when they are missing.
    /// - Parameter role: what this process is, in the holder's line ("daemon", "backup job").
    public init(dataDirectory: String, role: String) throws(EngineError) {
        let directory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        path = (directory as NSString).appendingPathComponent("hen.lock")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.store, "Cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        descriptor = try Self.lock(path, directory: directory)
        let line = Array("\(getpid()) \(role)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = line.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Opens and locks `path`. It must be a plain file of this user with one name (a link planted there
    /// would have us truncate another file), and still be the file at `path` once locked: a lock file
    /// removed and made again meanwhile would let two processes hold "the" lock.
    private static func lock(_ path: String, directory: String) throws(EngineError) -> Int32 {
        while true {
            let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
            guard fd >= 0 else {
                let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
                throw EngineError(.store, "Cannot open the lock file \(path): \(reason); remove it, and let hen-backup create it.")
            }
            var opened = stat()
            guard fstat(fd, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG, opened.st_uid == geteuid(), opened.st_nlink == 1 else {
                close(fd)
                throw EngineError(.store, "The lock file \(path) is not a plain file of this user with a single name; remove it, and let hen-backup create it.")
            }
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                if code == EINTR { continue }
                let holder = Self.holder(fd)
                close(fd)
                if code == EWOULDBLOCK {
                    throw EngineError(.dataDirectoryInUse, Self.inUseMessage(directory: directory, holder: holder))
                }
                throw EngineError(.store, "Cannot lock \(path): \(String(cString: strerror(code))).")
            }
            var current = stat()
            if stat(path, &current) == 0, current.st_dev == opened.st_dev, current.st_ino == opened.st_ino {
                return fd
            }
            // Removed (or replaced) between our open and our lock: lock the file that is there now.
            close(fd)
        }
    }

    deinit {
        // Closing the descriptor releases the flock; the file stays (removing it would race a newcomer).
        close(descriptor)
    }

    /// "1234 daemon" as written by the holder, or nil while it has not written it yet.
    private static func holder(_ fd: Int32) -> (pid: Int32, role: String)? {
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = text.split(separator: " ", maxSplits: 1)
        guard let first = parts.first, let pid = Int32(first) else { return nil }
        return (pid, parts.count > 1 ? String(parts[1]) : "hen-backup")
    }

    private static func inUseMessage(directory: String, holder: (pid: Int32, role: String)?) -> String {
        let who = holder.map { "another hen-backup (\($0.role), PID \($0.pid))" } ?? "another hen-backup process"
        return "The data directory \(directory) is in use by \(who); stop it first, or give this one its own data_dir."
    }
}
