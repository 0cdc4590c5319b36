import Foundation

/// The running watchers of a ``WatchService``, their bookkeeping for status, and the suppressions
/// asked for by restores (kept here so a watcher that starts during a restore honours them too).
actor WatcherSet {
    struct Entry {
        var watcher: InotifyWatcher?
        var debouncer: ChangeDebouncer?
        var state: WatchStatus.State = .starting
        var degraded: WatchDegradation?
        var lastChange: Date?
        var lastTrigger: Date?
    }

    private var entries: [String: Entry] = [:]
    private var suppressions: [UInt64: (paths: [String], tokens: [String: WatchSuppression])] = [:]
    private var nextSuppression: UInt64 = 0

    func entry(_ backup: String) -> Entry? { entries[backup] }

    func register(_ backup: String, watcher: InotifyWatcher, debouncer: ChangeDebouncer) {
        entries[backup, default: Entry()].watcher = watcher
        entries[backup, default: Entry()].debouncer = debouncer
        for (id, suppression) in suppressions {
            suppressions[id]?.tokens[backup] = watcher.beginSuppression(of: suppression.paths)
        }
    }

    func setState(_ backup: String, _ state: WatchStatus.State, degraded: WatchDegradation? = nil) {
        entries[backup, default: Entry()].state = state
        if let degraded { entries[backup, default: Entry()].degraded = degraded }
    }

    func noteChange(_ backup: String, at date: Date) {
        entries[backup, default: Entry()].lastChange = date
    }

    func noteTrigger(_ backup: String, at date: Date) {
        entries[backup, default: Entry()].lastTrigger = date
    }

    func beginSuppression(of paths: [String]) -> UInt64 {
        nextSuppression += 1
        var tokens: [String: WatchSuppression] = [:]
        for (backup, entry) in entries {
            if let watcher = entry.watcher { tokens[backup] = watcher.beginSuppression(of: paths) }
        }
        suppressions[nextSuppression] = (paths, tokens)
        return nextSuppression
    }

    func endSuppression(_ id: UInt64) async {
        guard let suppression = suppressions[id] else { return }
        // Each watcher first reads what the restore left in its queue; only then is the suppression lifted.
        for (backup, token) in suppression.tokens {
            await entries[backup]?.watcher?.endSuppression(token)
        }
        // A watcher registered while the ones above drained holds a token too.
        if let late = suppressions.removeValue(forKey: id)?.tokens {
            for (backup, token) in late where suppression.tokens[backup] == nil {
                await entries[backup]?.watcher?.endSuppression(token)
            }
        }
    }
}
