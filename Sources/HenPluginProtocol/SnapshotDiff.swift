import Foundation

/// What changed from one snapshot to another, as a driver reports it while it compares them.
public enum SnapshotDiffItem: Sendable, Hashable {
    /// One path that was added, removed or modified.
    case change(SnapshotChange)
    /// Totals the driver knows beyond the changes (restic: the data added and removed); at most once.
    case statistics(SnapshotDiffStatistics)
}

/// One path that differs between two snapshots.
public struct SnapshotChange: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// In the newer snapshot only.
        case added
        /// In the older snapshot only.
        case removed
        /// In both, with other content or another type.
        case modified
    }

    /// The absolute path inside the snapshots, without a trailing slash.
    public var path: String
    public var kind: Kind
    /// What the path is (in the newer snapshot, or the older one for a removal); nil when the driver
    /// does not say.
    public var nodeKind: Node.Kind?

    public init(path: String, kind: Kind, nodeKind: Node.Kind? = nil) {
        self.path = path
        self.kind = kind
        self.nodeKind = nodeKind
    }
}

/// Bytes that a driver counts for a diff in its own terms (restic: the data stored for the added and
/// removed files, after deduplication).
public struct SnapshotDiffStatistics: Sendable, Hashable, Codable {
    public var bytesAdded: UInt64?
    public var bytesRemoved: UInt64?

    public init(bytesAdded: UInt64? = nil, bytesRemoved: UInt64? = nil) {
        self.bytesAdded = bytesAdded
        self.bytesRemoved = bytesRemoved
    }
}
