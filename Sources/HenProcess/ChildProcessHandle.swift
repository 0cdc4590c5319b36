import Subprocess
import Synchronization

typealias ChildExecution = Execution<FileDescriptorInput, SequenceOutput, SequenceOutput>

/// The running child as seen from the caller's cancellation handler: interrupts it (SIGINT), and kills it
/// (SIGKILL to its process group) when it has not exited after the grace period.
///
/// The execution is held only while its output is being read, that is before the child is reaped, so a
/// signal can never reach a process that reused its pid (signals to the child itself go through its pidfd).
final class ChildProcessHandle: Sendable {
    private struct State {
        var execution: ChildExecution?
        var interruptRequested = false
        var interruptDelivered = false
        var finished = false
        var killTimer: Task<Void, Never>?
        var grace: Duration
        /// When the interrupt was delivered, to shorten a running grace from its start.
        var interruptedAt: ContinuousClock.Instant?
    }

    private let state: Mutex<State>
    /// SIGINT to the child's process group (a shell's children too), not to the child alone.
    private let interruptsGroup: Bool

    init(grace: Duration, interruptsGroup: Bool = false) {
        state = Mutex(State(grace: grace))
        self.interruptsGroup = interruptsGroup
    }

    /// A hurried stop (``ChildStopUrgency``): at most `grace` between SIGINT and SIGKILL, counted from the
    /// SIGINT when it was sent already.
    func shortenGrace(to grace: Duration) {
        state.withLock { s in
            guard grace < s.grace else { return }
            s.grace = grace
            guard s.interruptDelivered, !s.finished, let start = s.interruptedAt else { return }
            scheduleKill(after: max(.zero, grace - (ContinuousClock.now - start)), &s)
        }
    }

    /// The child runs; a pending interrupt is delivered now.
    func attach(_ execution: ChildExecution) {
        ChildRegistry.shared.insert(execution.processIdentifier.value)
        state.withLock { s in
            s.execution = execution
            if s.interruptRequested { deliverInterrupt(&s) }
        }
    }

    /// The child's output is fully read. Returns whether it was interrupted.
    func detach() -> Bool {
        state.withLock { s in
            if let pid = s.execution?.processIdentifier.value { ChildRegistry.shared.remove(pid) }
            s.execution = nil
            s.finished = true
            s.killTimer?.cancel()
            s.killTimer = nil
            return s.interruptDelivered
        }
    }

    /// The caller was cancelled: SIGINT now (or as soon as the child runs), SIGKILL after the grace.
    func interrupt() {
        state.withLock { s in
            guard !s.interruptRequested, !s.finished else { return }
            s.interruptRequested = true
            if s.execution != nil { deliverInterrupt(&s) }
        }
    }

    private func deliverInterrupt(_ s: inout State) {
        guard let execution = s.execution, !s.interruptDelivered else { return }
        try? execution.send(signal: .interrupt, toProcessGroup: interruptsGroup)
        s.interruptDelivered = true
        s.interruptedAt = .now
        scheduleKill(after: s.grace, &s)
    }

    /// SIGKILL `delay` from now, replacing a kill already scheduled.
    private func scheduleKill(after delay: Duration, _ s: inout State) {
        s.killTimer?.cancel()
        s.killTimer = Task.detached { [self] in
            do { try await Task.sleep(for: delay) } catch { return }
            self.kill()
        }
    }

    private func kill() {
        state.withLock { s in
            guard let execution = s.execution else { return }
            // The child leads its own process group: this also takes helpers it started (sleep, ssh, rclone).
            try? execution.send(signal: .kill, toProcessGroup: true)
            try? execution.send(signal: .kill)
        }
    }
}
