import Foundation

/// What a job did to one repository.
public struct RepositoryResult: Sendable, Hashable, Codable {
    public var repository: String
    /// The snapshot a backup wrote.
    public var snapshotID: String?
    public var filesNew: UInt64?
    public var filesChanged: UInt64?
    public var filesUnmodified: UInt64?
    public var filesProcessed: UInt64?
    public var bytesProcessed: UInt64?
    /// Bytes the repository grew by.
    public var bytesAdded: UInt64?
    /// Snapshots a forget or prune removed.
    public var snapshotsRemoved: [String]?
    public var snapshotsKept: Int?
    /// Files and bytes a restore wrote.
    public var filesRestored: UInt64?
    public var bytesRestored: UInt64?
    /// Problems a check found.
    public var checkErrors: [String]?
    /// A backup's snapshot against its parent (the backup's previous snapshot in the repository): the
    /// parent, and the files added, removed and modified (directories apart).
    public var parentSnapshotID: String?
    public var filesAdded: Int?
    public var filesRemoved: Int?
    public var filesModified: Int?
    /// True when the snapshot set off the backup's mass-deletion alarm.
    public var alarm: Bool?
    /// What a restore drill found in this repository.
    public var drill: DrillResult?

    public init(repository: String, snapshotID: String? = nil, filesNew: UInt64? = nil, filesChanged: UInt64? = nil, filesUnmodified: UInt64? = nil, filesProcessed: UInt64? = nil, bytesProcessed: UInt64? = nil, bytesAdded: UInt64? = nil, snapshotsRemoved: [String]? = nil, snapshotsKept: Int? = nil, filesRestored: UInt64? = nil, bytesRestored: UInt64? = nil, checkErrors: [String]? = nil) {
        self.repository = repository
        self.snapshotID = snapshotID
        self.filesNew = filesNew
        self.filesChanged = filesChanged
        self.filesUnmodified = filesUnmodified
        self.filesProcessed = filesProcessed
        self.bytesProcessed = bytesProcessed
        self.bytesAdded = bytesAdded
        self.snapshotsRemoved = snapshotsRemoved
        self.snapshotsKept = snapshotsKept
        self.filesRestored = filesRestored
        self.bytesRestored = bytesRestored
        self.checkErrors = checkErrors
    }
}
