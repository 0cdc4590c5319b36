import Foundation
import HenProcess
import Synchronization

/// Collects what a child printed, and lets a test wait until a given line arrived.
final class ChildOutputRecorder: Sendable {
    private struct State {
        var lines: [ChildOutputLine] = []
        var waiters: [(String, CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    func record(_ line: ChildOutputLine) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.lines.append(line)
            let text: String
            switch line {
            case .stdout(let t), .stderr(let t): text = t
            }
            let matching = s.waiters.filter { $0.0 == text }.map(\.1)
            s.waiters.removeAll { $0.0 == text }
            return matching
        }
        ready.forEach { $0.resume() }
    }

    var lines: [ChildOutputLine] { state.withLock { $0.lines } }
    var stdout: [String] { lines.compactMap { if case .stdout(let t) = $0 { t } else { nil } } }
    var stderr: [String] { lines.compactMap { if case .stderr(let t) = $0 { t } else { nil } } }

    /// Returns once a line equal to `text` was printed on either stream.
    func waitFor(_ text: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let seen: Bool = state.withLock { s in
                let seen = s.lines.contains { line in
                    switch line {
                    case .stdout(let t), .stderr(let t): t == text
                    }
                }
                if !seen { s.waiters.append((text, continuation)) }
                return seen
            }
            if seen { continuation.resume() }
        }
    }
}
