import Foundation

/// One snapshot of a repository, as every driver describes it.
public struct Snapshot: Sendable, Hashable, Codable {
    /// The driver's full id.
    public var id: String
    /// A short id for people (restic's first 8 hex digits).
    public var shortID: String
    public var time: Date
    public var host: String
    public var tags: [String]
    public var paths: [String]
    public var parent: String?

    public init(id: String, shortID: String? = nil, time: Date, host: String, tags: [String], paths: [String], parent: String? = nil) {
        self.id = id
        self.shortID = shortID ?? String(id.prefix(8))
        self.time = time
        self.host = host
        self.tags = tags
        self.paths = paths
        self.parent = parent
    }

    /// The backup that wrote this snapshot, from its `backup=<name>` tag.
    public var backup: String? { tagValue("backup") }
    /// The job that wrote this snapshot, from its `job=<id>` tag.
    public var jobID: String? { tagValue("job") }

    public func tagValue(_ key: String) -> String? {
        let prefix = key + "="
        return tags.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// Tags that identify what wrote a snapshot (the original hen-backup's convention).
public enum SnapshotTag {
    public static func backup(_ name: String) -> String { "backup=\(name)" }
    public static func job(_ id: String) -> String { "job=\(id)" }
}

/// Which of this host's snapshots to list. The host itself is not a filter: it is the driver's context.
public struct SnapshotFilter: Sendable, Hashable, Codable {
    /// A snapshot matches when it carries every one of these tags.
    public var tags: [String]
    /// A snapshot matches when it carries every one of these paths (empty: any).
    public var paths: [String]

    public init(tags: [String] = [], paths: [String] = []) {
        self.tags = tags
        self.paths = paths
    }

    public func matches(_ snapshot: Snapshot) -> Bool {
        tags.allSatisfy(snapshot.tags.contains) && paths.allSatisfy(snapshot.paths.contains)
    }
}

/// One file, directory or link inside a snapshot.
public struct Node: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case file, directory, symlink, other
    }
    /// The absolute path inside the snapshot, `/`-separated (`/home/me/notes.txt`).
    public var path: String
    public var name: String
    public var kind: Kind
    public var size: UInt64?
    /// Permission bits (and set-id/sticky bits), without the file-type bits.
    public var mode: UInt32?
    public var modificationTime: Date?
    public var linkTarget: String?

    public init(path: String, name: String? = nil, kind: Kind, size: UInt64? = nil, mode: UInt32? = nil, modificationTime: Date? = nil, linkTarget: String? = nil) {
        self.path = path
        self.name = name ?? (path as NSString).lastPathComponent
        self.kind = kind
        self.size = size
        self.mode = mode
        self.modificationTime = modificationTime
        self.linkTarget = linkTarget
    }
}

public enum InitializeResult: String, Sendable, Codable {
    case created
    case alreadyInitialized = "already_initialized"
}

public struct BackupRequest: Sendable, Hashable, Codable {
    /// Absolute paths to back up; each must exist.
    public var paths: [String]
    /// Exclude patterns, with restic's semantics (see ``ExcludeMatcher``).
    public var excludes: [String]
    /// Tags for the new snapshot: `backup=<name>`, `job=<id>`, and any others.
    public var tags: [String]
    public var limits: TransferLimits
    /// The full id of the snapshot to compare with (the engine's choice: the previous snapshot of the same
    /// backup there), so that the summary's counts of new, changed and unmodified files are against it. A
    /// driver that can compare with a snapshot of its choosing does; one that cannot find it backs up
    /// against its own choice instead and leaves ``BackupSummary/parentSnapshotID`` nil.
    public var parent: String?

    public init(paths: [String], excludes: [String] = [], tags: [String] = [], limits: TransferLimits = TransferLimits(), parent: String? = nil) {
        self.paths = paths
        self.excludes = excludes
        self.tags = tags
        self.limits = limits
        self.parent = parent
    }
}

/// Where a running operation stands. Every field is optional: drivers report what they know.
public struct Progress: Sendable, Hashable, Codable {
    /// 0…1.
    public var fraction: Double?
    public var filesDone: UInt64?
    public var totalFiles: UInt64?
    public var bytesDone: UInt64?
    public var totalBytes: UInt64?
    public var secondsElapsed: Double?
    public var secondsRemaining: Double?
    public var currentFiles: [String]

    public init(fraction: Double? = nil, filesDone: UInt64? = nil, totalFiles: UInt64? = nil, bytesDone: UInt64? = nil, totalBytes: UInt64? = nil, secondsElapsed: Double? = nil, secondsRemaining: Double? = nil, currentFiles: [String] = []) {
        self.fraction = fraction
        self.filesDone = filesDone
        self.totalFiles = totalFiles
        self.bytesDone = bytesDone
        self.totalBytes = totalBytes
        self.secondsElapsed = secondsElapsed
        self.secondsRemaining = secondsRemaining
        self.currentFiles = currentFiles
    }
}

public struct BackupSummary: Sendable, Hashable, Codable {
    public var snapshotID: String
    public var filesNew: UInt64
    public var filesChanged: UInt64
    public var filesUnmodified: UInt64
    public var dirsNew: UInt64
    public var dirsChanged: UInt64
    public var dirsUnmodified: UInt64
    /// Bytes the repository grew by.
    public var dataAdded: UInt64
    public var totalFilesProcessed: UInt64
    public var totalBytesProcessed: UInt64
    public var duration: Double
    /// Files that could not be read and were left out (restic's exit code 3).
    public var warnings: [String]
    /// The new snapshot as the driver made it (its id, and the time, host, tags and paths it was given),
    /// when the driver knows it without listing the repository: the engine adds it to its cached snapshot
    /// list instead of reading the list again. Nil makes the engine read the list when it next needs it.
    public var snapshot: Snapshot?
    /// The snapshot that `filesNew`, `filesChanged` and `filesUnmodified` are counted against, when the driver
    /// knows it (restic: the request's `parent`, which it was given); nil when unknown.
    public var parentSnapshotID: String?
    /// True when the driver saw, without another run, that the new snapshot is the only one in the
    /// repository (restic on a local disk, from its `snapshots/` directory): the engine's cached list is then
    /// complete with it alone, and the snapshot has no parent. Nil when the driver does not know.
    public var onlySnapshot: Bool?
    /// False when the driver does not count new, changed and unmodified files (borg: its file statuses
    /// follow its files cache, not the previous archive, so a file it did not remember is "added" again):
    /// those three are then 0 and the engine records them as unknown, not as zero. Nil (plugins written
    /// before this field) and true: counted.
    public var fileCountsKnown: Bool?

    public init(snapshotID: String, filesNew: UInt64 = 0, filesChanged: UInt64 = 0, filesUnmodified: UInt64 = 0, dirsNew: UInt64 = 0, dirsChanged: UInt64 = 0, dirsUnmodified: UInt64 = 0, dataAdded: UInt64 = 0, totalFilesProcessed: UInt64 = 0, totalBytesProcessed: UInt64 = 0, duration: Double = 0, warnings: [String] = [], snapshot: Snapshot? = nil, parentSnapshotID: String? = nil, onlySnapshot: Bool? = nil, fileCountsKnown: Bool? = nil) {
        self.fileCountsKnown = fileCountsKnown
        self.snapshot = snapshot
        self.parentSnapshotID = parentSnapshotID
        self.onlySnapshot = onlySnapshot
        self.snapshotID = snapshotID
        self.filesNew = filesNew
        self.filesChanged = filesChanged
        self.filesUnmodified = filesUnmodified
        self.dirsNew = dirsNew
        self.dirsChanged = dirsChanged
        self.dirsUnmodified = dirsUnmodified
        self.dataAdded = dataAdded
        self.totalFilesProcessed = totalFilesProcessed
        self.totalBytesProcessed = totalBytesProcessed
        self.duration = duration
        self.warnings = warnings
    }
}

public struct RestoreRequest: Sendable, Hashable, Codable {
    public var snapshot: String
    /// The directory the snapshot's paths are recreated below (restic's `--target`).
    public var target: String
    /// Paths inside the snapshot to restore; empty restores everything.
    public var includes: [String]
    /// The includes are exact paths of files taken from the snapshot's own listing (a restore drill's
    /// sample): the driver need not check that each exists, and reads no pattern characters in them.
    public var includesAreListedPaths: Bool
    /// The caller already knows that `snapshot` is the full id of one of this host's snapshots and that
    /// every include is in it (the engine checks both against its snapshot cache and tree index): the
    /// driver then runs no listing of its own to find out again.
    public var verified: Bool

    public init(snapshot: String, target: String, includes: [String] = [], includesAreListedPaths: Bool = false, verified: Bool = false) {
        self.snapshot = snapshot
        self.target = target
        self.includes = includes
        self.includesAreListedPaths = includesAreListedPaths
        self.verified = verified
    }
}

public struct RestoreSummary: Sendable, Hashable, Codable {
    public var filesRestored: UInt64?
    public var bytesRestored: UInt64?
    public var warnings: [String]

    public init(filesRestored: UInt64? = nil, bytesRestored: UInt64? = nil, warnings: [String] = []) {
        self.filesRestored = filesRestored
        self.bytesRestored = bytesRestored
        self.warnings = warnings
    }
}

/// Which snapshots to keep. Nil fields are not used; a policy with none set keeps nothing and is refused.
public struct RetentionPolicy: Sendable, Hashable, Codable {
    public var keepLast: Int?
    public var keepHourly: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?
    public var keepYearly: Int?
    /// Keep every snapshot younger than this, counted back from the newest snapshot (restic's semantics).
    public var keepWithin: KeepWithin?
    /// Keep every snapshot carrying one of these tags.
    public var keepTags: [String]

    public init(keepLast: Int? = nil, keepHourly: Int? = nil, keepDaily: Int? = nil, keepWeekly: Int? = nil, keepMonthly: Int? = nil, keepYearly: Int? = nil, keepWithin: KeepWithin? = nil, keepTags: [String] = []) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
        self.keepWithin = keepWithin
        self.keepTags = keepTags
    }

    public var isEmpty: Bool {
        keepLast == nil && keepHourly == nil && keepDaily == nil && keepWeekly == nil && keepMonthly == nil
            && keepYearly == nil && keepWithin == nil && keepTags.isEmpty
    }
}

/// A `keep_within` span in calendar units, as restic understands it (years, months, days, hours).
/// Hen's configuration writes durations with `m` for minutes; restic's `m` means months. The
/// configuration converts weeks to days and refuses minutes and seconds that are not whole hours.
public struct KeepWithin: Sendable, Hashable, Codable {
    public var years: Int
    public var months: Int
    public var days: Int
    public var hours: Int

    public init(years: Int = 0, months: Int = 0, days: Int = 0, hours: Int = 0) {
        self.years = years
        self.months = months
        self.days = days
        self.hours = hours
    }

    /// restic's `--keep-within` notation: `1y2m3d4h` (m = months).
    public var resticNotation: String {
        var text = ""
        if years > 0 { text += "\(years)y" }
        if months > 0 { text += "\(months)m" }
        if days > 0 { text += "\(days)d" }
        if hours > 0 { text += "\(hours)h" }
        return text.isEmpty ? "0h" : text
    }

    /// The date before which a snapshot is outside the span, counting back from `reference`.
    public func cutoff(from reference: Date, calendar: Calendar) -> Date {
        var components = DateComponents()
        components.year = -years
        components.month = -months
        components.day = -days
        components.hour = -hours
        return calendar.date(byAdding: components, to: reference) ?? reference
    }
}

public struct ForgetRequest: Sendable, Hashable {
    public enum Selection: Sendable, Hashable {
        /// These snapshots (full or short ids), which must belong to this host.
        case snapshots([String])
        /// Whatever the policy does not keep, grouped per host and paths as restic does.
        case policy(RetentionPolicy)
    }
    public var selection: Selection
    /// Only snapshots carrying all these tags are considered (`backup=<name>`).
    public var tags: [String]
    /// Also remove the data no snapshot references any more.
    public var prune: Bool
    /// For `.snapshots`: the caller already knows that each is the full id of one of this host's snapshots
    /// carrying `tags` (the engine checks them against its snapshot cache), so the driver looks none up.
    public var verified: Bool

    public init(selection: Selection, tags: [String] = [], prune: Bool = false, verified: Bool = false) {
        self.selection = selection
        self.tags = tags
        self.prune = prune
        self.verified = verified
    }
}

public struct ForgetSummary: Sendable, Hashable, Codable {
    public var kept: [String]
    public var removed: [String]
    public var pruned: Bool

    public init(kept: [String] = [], removed: [String] = [], pruned: Bool = false) {
        self.kept = kept
        self.removed = removed
        self.pruned = pruned
    }
}

public struct CheckRequest: Sendable, Hashable, Codable {
    /// Read back this part of the data: `5%`, `1/10`, or a size such as `500M` (restic's notation).
    public var readDataSubset: String?

    public init(readDataSubset: String? = nil) {
        self.readDataSubset = readDataSubset
    }
}

public struct CheckSummary: Sendable, Hashable, Codable {
    /// Problems found; empty means the repository is sound.
    public var errors: [String]
    public var warnings: [String]
    public var ok: Bool { errors.isEmpty }

    public init(errors: [String] = [], warnings: [String] = []) {
        self.errors = errors
        self.warnings = warnings
    }
}

public struct RepositoryStats: Sendable, Hashable, Codable {
    public var totalSize: UInt64?
    public var totalFileCount: UInt64?
    public var snapshotCount: UInt64?

    public init(totalSize: UInt64? = nil, totalFileCount: UInt64? = nil, snapshotCount: UInt64? = nil) {
        self.totalSize = totalSize
        self.totalFileCount = totalFileCount
        self.snapshotCount = snapshotCount
    }
}
