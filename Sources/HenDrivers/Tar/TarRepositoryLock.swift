import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The exclusive lock a tar repository's writers (backup, forget) hold: `<repo>/locks/exclusive.json`,
/// created atomically with `O_EXCL`. It records the machine and process so `unlock` can tell a stale lock
/// (same machine, process gone) from a live one; a lock from another machine is never called stale.
struct TarRepositoryLock: Codable, Sendable {
    static let fileName = "exclusive.json"

    var machine: String
    var pid: Int32
    var operation: String
    var time: String

    static var currentMachine: String { ProcessInfo.processInfo.hostName }

    /// True when the holder is a process of this machine that no longer exists.
    var isStale: Bool {
        guard machine == Self.currentMachine else { return false }
        if kill(pid, 0) == 0 { return false }
        return errno == ESRCH
    }

    /// Takes the lock or throws `.repositoryLocked`; returns the lock file's path for ``release(_:)``.
    static func acquire(directory: String, operation: String, repository: String) throws(DriverError) -> String {
        let path = directory + "/" + fileName
        let lock = TarRepositoryLock(
            machine: currentMachine, pid: getpid(), operation: operation,
            time: TarManifest.formatTime(Date())
        )
        let bytes = (try? TarManifest.encode(lock)) ?? []
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            let code = errno
            if code == EEXIST {
                let holder = read(path: path)
                let who = holder.map { "\($0.operation) by process \($0.pid) on \($0.machine) since \($0.time)" } ?? "an unknown process"
                let advice = holder?.isStale == true ? " That process is gone: run unlock to clear the stale lock." : ""
                throw DriverError(.repositoryLocked, "Tar repository \(repository) is locked (\(who)).\(advice)", repository: repository)
            }
            throw DriverError(.failed, "Tar repository \(repository) could not be locked: \(String(cString: strerror(code))).", repository: repository)
        }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return path
    }

    static func release(_ path: String) {
        unlink(path)
    }

    static func read(path: String) -> TarRepositoryLock? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(TarRepositoryLock.self, from: data)
    }
}
