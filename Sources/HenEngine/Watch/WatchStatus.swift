import Foundation

/// One backup's watcher, for `hen-backup status` and the API.
public struct WatchStatus: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Adding the watches.
        case starting
        case watching
        /// Not watching (see ``WatchStatus/degraded``): the backup runs on its schedules only.
        case degraded
        case stopped
    }

    public var backup: String
    /// The watched paths, absolute.
    public var paths: [String]
    public var latencySeconds: Double
    public var maxWaitSeconds: Double
    public var state: State
    /// inotify watches in use (one per directory, and one per parent of a watched file).
    public var watches: Int
    public var degraded: WatchDegradation?
    public var lastChange: Date?
    /// When the changes seen so far will queue a backup, if any are pending.
    public var pendingTrigger: Date?
    /// Changes counted in the pending burst.
    public var pendingChanges: Int
    /// When changes last queued a backup.
    public var lastTrigger: Date?

    public init(backup: String, paths: [String], latencySeconds: Double, maxWaitSeconds: Double, state: State, watches: Int, degraded: WatchDegradation?, lastChange: Date?, pendingTrigger: Date?, pendingChanges: Int, lastTrigger: Date?) {
        self.backup = backup
        self.paths = paths
        self.latencySeconds = latencySeconds
        self.maxWaitSeconds = maxWaitSeconds
        self.state = state
        self.watches = watches
        self.degraded = degraded
        self.lastChange = lastChange
        self.pendingTrigger = pendingTrigger
        self.pendingChanges = pendingChanges
        self.lastTrigger = lastTrigger
    }}
