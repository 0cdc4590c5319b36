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
        var handles: [ObjectIdentifier: ChildProcessHandle] = [:]
        var hurryActions: [Int: @Sendable () -> Void] = [:]
        var nextAction = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// From now on every child under this urgency gets at most `grace` between SIGINT and SIGKILL.
    public func hurry(grace: Duration) {
        let (handles, actions) = state.withLock { state in
            state.grace = min(state.grace ?? grace, grace)
            return (Array(state.handles.values), Array(state.hurryActions.values))
        }
        for handle in handles { handle.shortenGrace(to: grace) }
        for action in actions { action() }
    }

    /// Runs `body` with `action` called if this urgency is hurried meanwhile (at once when it already
    /// was): work that a stop does not cancel, such as `finally` hooks, is cancelled by a hurry.
    public func onHurry<T: Sendable>(_ action: @escaping @Sendable () -> Void, _ body: () async -> T) async -> T {
        let (key, hurried) = state.withLock { state in
            state.nextAction += 1
            state.hurryActions[state.nextAction] = action
            return (state.nextAction, state.grace != nil)
        }
        if hurried { action() }
        defer { _ = state.withLock { $0.hurryActions.removeValue(forKey: key) } }
        return await body()
    }

    /// The grace to start a child with: its own, or less when hurried.
    func register(_ handle: ChildProcessHandle) {
        let grace = state.withLock { state in
            state.handles[ObjectIdentifier(handle)] = handle
            return state.grace
        }
        if let grace { handle.shortenGrace(to: grace) }
    }

    func unregister(_ handle: ChildProcessHandle) {
        _ = state.withLock { $0.handles.removeValue(forKey: ObjectIdentifier(handle)) }
    }
}
