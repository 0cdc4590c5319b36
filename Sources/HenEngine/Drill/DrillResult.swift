import Foundation

/// What a restore drill found in one repository: how many sampled files came back identical to their
/// unchanged source, differed, or were skipped (the source changed since the snapshot, or is gone), and
/// the paths that differed.
public struct DrillResult: Sendable, Hashable, Codable {
    /// The snapshot drilled (the backup's latest in the repository).
    public var snapshotID: String
    public var sampled: Int
    public var matched: Int
    public var differed: Int
    public var skipped: Int
    public var bytesRestored: UInt64
    /// The paths that differed (at most ``maxListedPaths``; `differed` has the count).
    public var differedPaths: [String]

    public static let maxListedPaths = 100

    public init(snapshotID: String, sampled: Int = 0, matched: Int = 0, differed: Int = 0, skipped: Int = 0, bytesRestored: UInt64 = 0, differedPaths: [String] = []) {
        self.snapshotID = snapshotID
        self.sampled = sampled
        self.matched = matched
        self.differed = differed
        self.skipped = skipped
        self.bytesRestored = bytesRestored
        self.differedPaths = differedPaths
    }
}
