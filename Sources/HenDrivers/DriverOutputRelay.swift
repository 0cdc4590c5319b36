import Synchronization

/// Carries what a child says (restic's lines, a plugin's events) from the runner's reading task to the task
/// that called the driver, so that the driver's event handler is called from the caller's own task.
/// Deliberately deaf to cancellation: after the caller is cancelled the lines keep coming until the child
/// has exited (the SIGINT-and-drain rule).
final class DriverOutputRelay<Element: Sendable>: Sendable {
    private struct State {
        var lines: [Element] = []
        var next = 0
        var waiting: CheckedContinuation<Element?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func yield(_ line: Element) {
        let waiting: CheckedContinuation<Element?, Never>? = state.withLock { s in
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
        let waiting: CheckedContinuation<Element?, Never>? = state.withLock { s in
            s.finished = true
            defer { s.waiting = nil }
            return s.waiting
        }
        waiting?.resume(returning: nil)
    }

    /// The next line, or nil once the child's output is finished.
    func next() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let ready: Element?? = state.withLock { s in
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
