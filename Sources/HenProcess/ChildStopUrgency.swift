import Synchronization

/// Shortens the SIGINT → SIGKILL grace of the child processes started under it: a daemon told twice to
/// stop does not wait for restic to send its packs in flight at a low upload limit.
///
/// A job's work runs with the engine's urgency as ``current`` (a task local, so two engines in one process,
/// as in tests, never hurry each other's children). Children started under it register their handles;
/// ``hurry(grace:)`` caps the grace of those running and of those started later. A child killed this way
/// leaves its lock behind for the driver to remove (restic: `restic unlock`, which removes only stale locks).
public final class ChildStopUrgency: Sendable {
    @TaskLocal public static var current: ChildStopUrgency?

    private struct State {
        var grace: Duration?
        /// What a hurry does, by key: shorten a running child's grace, cancel a `finally` phase.
        var actions: [Int: @Sendable (Duration) -> Void] = [:]
        var nextKey = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// From now on every child under this urgency gets at most `grace` between SIGINT and SIGKILL.
    public func hurry(grace: Duration) {
        let actions = state.withLock { state in
            state.grace = min(state.grace ?? grace, grace)
            return Array(state.actions.values)
        }
        for action in actions { action(grace) }
    }

    /// Runs `body` with `action` called if this urgency is hurried meanwhile (at once when it already
    /// was): work that a stop does not cancel, such as `finally` hooks, is cancelled by a hurry.
    public func onHurry<T: Sendable>(_ action: @escaping @Sendable () -> Void, _ body: () async -> T) async -> T {
        let key = add { _ in action() }
        defer { remove(key) }
        return await body()
    }

    /// A running child: its grace is capped by a hurry, now when one already happened.
    func register(_ handle: ChildProcessHandle) -> Int {
        add { handle.shortenGrace(to: $0) }
    }

    func remove(_ key: Int) {
        _ = state.withLock { $0.actions.removeValue(forKey: key) }
    }

    /// Adds `action`, and runs it at once with the grace of a hurry that already happened.
    private func add(_ action: @escaping @Sendable (Duration) -> Void) -> Int {
        let (key, grace) = state.withLock { state in
            state.nextKey += 1
            state.actions[state.nextKey] = action
            return (state.nextKey, state.grace)
        }
        if let grace { action(grace) }
        return key
    }
}
