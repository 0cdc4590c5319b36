import Foundation

/// The kernel's process table, read from /proc: whether a child a test started is still alive.
public enum ProcessTable {
    /// Whether a live (not zombie) process with this pid exists.
    public static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// Waits (polling, bounded) until the process is gone; returns whether it went.
    public static func waitUntilGone(_ pid: Int32, timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !isRunning(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !isRunning(pid)
    }

    /// The state letter (`R`, `S`, `Z`…) and the parent of a process, nil when it is gone.
    public static func stat(_ pid: Int32) -> (state: Character, parent: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": the state, then the parent's pid.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        return (state, parent)
    }

    /// The children of a process, zombies included.
    public static func children(of parent: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { stat($0)?.parent == parent }.sorted()
    }

    public static func isZombie(_ pid: Int32) -> Bool { stat(pid)?.state == "Z" }
}
