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
}
