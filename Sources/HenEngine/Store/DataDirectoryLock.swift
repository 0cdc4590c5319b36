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
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw EngineError(.store, "Cannot open \(path): \(String(cString: strerror(errno))).")
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
        descriptor = fd
        let line = Array("\(getpid()) \(role)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
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
