/// `retry: { attempts, backoff, max_backoff }`, globally and per backup: how often a step that failed for a
/// passing reason (the storage unreachable, a timeout, a lock held by another host's running restic) is
/// tried again within the same job. Permanent failures (a wrong password, a missing repository without
/// `auto_init`, a bad configuration) are never retried.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included: 1 never retries.
    public var attempts: Int
    /// The wait before the second try; each further wait doubles, up to ``maxBackoff``.
    public var backoff: Duration
    public var maxBackoff: Duration

    /// The default: 3 tries, 30 s then 60 s apart (at most 5 min).
    public init(attempts: Int = 3, backoff: Duration = .seconds(30), maxBackoff: Duration = .seconds(300)) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }

    /// The wait after the failed try number `attempt` (1 for the first).
    public func wait(after attempt: Int) -> Duration {
        var wait = backoff
        for _ in 1..<max(1, attempt) {
            wait = wait * 2
            if wait >= maxBackoff { return maxBackoff }
        }
        return min(wait, maxBackoff)
    }
}
