#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Synchronization

/// The processes of this machine as /proc shows them: what start-up recovery and the PID-1 reaper need
/// to find processes the daemon's previous life left, and orphans handed to it.
public enum SystemProcesses {
    public struct Entry: Sendable, Hashable {
        public var pid: pid_t
        public var parent: pid_t
        /// `R`, `S`, `D`, `Z` (a zombie waiting to be reaped)…
        public var state: Character
        public var arguments: [String]
    }

    /// Every process readable now (one that ends while being read is left out).
    public static func entries() -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { name in Int32(name).flatMap(entry) }
    }

    public static func entry(_ pid: pid_t) -> Entry? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": the state, then the parent's pid (comm may hold spaces and parentheses).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        let arguments = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return Entry(pid: pid, parent: parent, state: state, arguments: arguments.last == "" ? Array(arguments.dropLast()) : arguments)
    }

    /// The command name of a process (`/proc/PID/comm`: the program's file name, at most 15 bytes), nil when
    /// it cannot be read.
    public static func name(_ pid: pid_t) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)).map { $0.trimmingCharacters(in: .newlines) }
    }

    /// The executable of a process (`/proc/PID/exe`), nil when it cannot be read.
    public static func executable(_ pid: pid_t) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }
}

/// Processes a previous run of this daemon left behind: children it started with `argument` followed by
/// `value` on their command line (restic's `--cache-dir <data_dir>/cache`) whose parent is no longer a
/// process of this program. A restic still running after a `kill -9` of the daemon (its death signal came
/// too late, or it ignores it) holds its lock alive; it must end before `restic unlock` can remove it.
public enum LeftoverProcesses {
    public static func find(argument: String, value: String) -> [SystemProcesses.Entry] {
        let own = SystemProcesses.executable(getpid())
        let me = getpid()
        return SystemProcesses.entries().filter { entry in
            guard entry.pid != me, entry.state != "Z", entry.state != "X" else { return false }
            let arguments = entry.arguments
            guard let index = arguments.firstIndex(of: argument), index + 1 < arguments.count,
                arguments[index + 1] == value
            else { return false }
            // Started by a live process of this program (a CLI listing snapshots beside us, or ourselves): not left over.
            if entry.parent == me { return false }
            if let own, entry.parent > 1, SystemProcesses.executable(entry.parent) == own { return false }
            return true
        }
    }

    /// Waits up to `grace` for them to end after SIGTERM (restic removes its lock then), then SIGKILLs
    /// what is left and waits until it is gone. Returns the pids that had to be killed.
    @discardableResult
    public static func stop(_ entries: [SystemProcesses.Entry], grace: Duration) async -> [pid_t] {
        for entry in entries { kill(entry.pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var alive = entries.map(\.pid)
        while !alive.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            alive = alive.filter(isAlive)
        }
        for pid in alive { kill(pid, SIGKILL) }
        while !alive.filter(isAlive).isEmpty {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return alive
    }

    /// Zombies named `name` (as /proc shows a command: its first 15 bytes) that are not this process's own
    /// children: programs a daemon killed by `kill -9` left, already dead but not yet reaped by whoever
    /// inherited them (init, a container's PID 1). A zombie's command line is gone, so only its name tells.
    public static func zombies(named name: String) -> [pid_t] {
        let me = getpid()
        let short = String(decoding: Array(name.utf8.prefix(15)), as: UTF8.self)
        return SystemProcesses.entries().filter { entry in
            entry.state == "Z" && entry.parent != me && SystemProcesses.name(entry.pid) == short
        }.map(\.pid)
    }

    /// Waits until none of `pids` is left, even as a zombie, or `timeout` has passed; returns those left.
    /// restic judges a lock stale only when its process is gone, and a zombie's pid still answers `kill(pid, 0)`:
    /// `restic unlock` leaves the lock of an unreaped restic in place.
    @discardableResult
    public static func waitUntilGone(_ pids: [pid_t], timeout: Duration) async -> [pid_t] {
        let deadline = ContinuousClock.now + timeout
        var left = pids.filter { SystemProcesses.entry($0) != nil }
        while !left.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            left = left.filter { SystemProcesses.entry($0) != nil }
        }
        return left
    }

    /// Alive and not a zombie (a zombie holds no lock; its parent, if any, reaps it).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let entry = SystemProcesses.entry(pid) else { return false }
        return entry.state != "Z" && entry.state != "X"
    }
}

/// Reaps orphans handed to this process: as PID 1 of a container, every process whose parent ended
/// becomes the daemon's child, and stays a zombie until the daemon waits for it. The daemon's own
/// children are reaped by swift-subprocess, which waits on each one's pidfd; waiting for one of them here
/// would take its exit status away. So only a zombie that is not one of ours (``ChildRegistry``) and was
/// already a zombie at the previous sweep is reaped: swift-subprocess reaps its own at once.
public final class OrphanReaper: Sendable {
    private let seen = Mutex<Set<pid_t>>([])

    public init() {}

    /// Whether this process is where orphans go: PID 1 of its namespace.
    public static var receivesOrphans: Bool { getpid() == 1 }

    /// Reaps the zombies among this process's children that are orphans seen at the previous sweep too;
    /// returns their pids.
    @discardableResult
    public func sweep() -> [pid_t] {
        let me = getpid()
        let zombies = Set(SystemProcesses.entries().filter { $0.parent == me && $0.state == "Z" }.map(\.pid))
            .subtracting(ChildRegistry.shared.pids)
        var reaped: [pid_t] = []
        seen.withLock { previous in
            for pid in zombies.intersection(previous) {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { reaped.append(pid) }
            }
            previous = zombies.subtracting(reaped)
        }
        return reaped.sorted()
    }
}

/// The pids of the children this process started and swift-subprocess will reap (from spawn until their
/// output is read): never reaped by ``OrphanReaper``.
final class ChildRegistry: Sendable {
    static let shared = ChildRegistry()
    private let live = Mutex<Set<pid_t>>([])
    var pids: Set<pid_t> { live.withLock { $0 } }
    func insert(_ pid: pid_t) { live.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: pid_t) { live.withLock { _ = $0.remove(pid) } }
}
