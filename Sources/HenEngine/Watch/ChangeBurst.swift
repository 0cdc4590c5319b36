/// Changes that came close together, reported as one trigger.
public struct ChangeBurst: Sendable, Hashable {
    /// The first distinct changed paths (``WatchBatch/overflowPath`` stands for an overflow).
    public var paths: [String]
    /// Change events counted in the burst.
    public var count: Int
    /// The kernel's queue overflowed during the burst.
    public var overflow: Bool
    /// When the first and the last change were recorded, on the debouncer's clock (time since it started).
    public var firstChange: Duration
    public var lastChange: Duration

    public init(paths: [String] = [], count: Int = 0, overflow: Bool = false, firstChange: Duration, lastChange: Duration) {
        self.paths = paths
        self.count = count
        self.overflow = overflow
        self.firstChange = firstChange
        self.lastChange = lastChange
    }
}
