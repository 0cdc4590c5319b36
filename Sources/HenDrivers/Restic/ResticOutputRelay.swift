import HenProcess
import Synchronization

/// Carries a child's lines from the runner's reading task to the task that called the driver, so that the
/// driver's event handler is called from the caller's own task. Deliberately deaf to cancellation: after
/// the caller is cancelled the lines keep coming until the child has exited (the SIGINT-and-drain rule).
final class ResticOutputRelay: Sendable {
    private struct State {
        var lines: [ChildOutputLine] = []
        var next = 0
        var waiting: CheckedContinuation<ChildOutputLine?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func yield(_ line: ChildOutputLine) {
        let waiting: CheckedContinuation<ChildOutputLine?, Never>? = state.withLock { s in
            if let waiting = s.waiting {
                s.waiting = nil
                return waiting
            }
            s.lines.append(line)
            return nil
        }
        waiting?.resume(returning: line)
    }

    func finish() {
        let waiting: CheckedContinuation<ChildOutputLine?, Never>? = state.withLock { s in
            s.finished = true
            defer { s.waiting = nil }
            return s.waiting
        }
        waiting?.resume(returning: nil)
    }

    /// The next line, or nil once the child's output is finished.
    func next() async -> ChildOutputLine? {
        await withCheckedContinuation { (continuation: CheckedContinuation<ChildOutputLine?, Never>) in
            let ready: ChildOutputLine?? = state.withLock { s in
                if s.next < s.lines.count {
                    let line = s.lines[s.next]
                    s.next += 1
                    if s.next == s.lines.count {
                        s.lines.removeAll(keepingCapacity: true)
                        s.next = 0
                    }
                    return .some(line)
                }
                if s.finished { return .some(nil) }
                s.waiting = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
