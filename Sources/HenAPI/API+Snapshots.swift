import Foundation
import HenDrivers
import HenEngine

extension API {
    /// A snapshot of this host as the API shows it, with the repository it is in.
    public struct Snapshot: Codable, Sendable, Hashable {
        public var repository: String
        public var id: String
        public var shortID: String
        public var time: Date
        public var host: String
        public var tags: [String]
        public var paths: [String]
        public var parent: String?
        /// The backup that wrote it (its `backup=` tag).
        public var backup: String?
        /// The job that wrote it (its `job=` tag).
        public var job: String?

        public init(_ found: RepositorySnapshot) {
            let snapshot = found.snapshot
            repository = found.repository
            id = snapshot.id
            shortID = snapshot.shortID
            time = snapshot.time
            host = snapshot.host
            tags = snapshot.tags
            paths = snapshot.paths
            parent = snapshot.parent
            backup = snapshot.backup
            job = snapshot.jobID
        }

        /// The driver's snapshot again (the backup and job come back from its tags).
        public var snapshot: HenDrivers.Snapshot {
            HenDrivers.Snapshot(id: id, shortID: shortID, time: time, host: host, tags: tags, paths: paths, parent: parent)
        }
    }

    /// `GET /snapshots`: a page, and the repositories that could not be read (the others are listed).
    public struct SnapshotPage: Codable, Sendable {
        public var items: [Snapshot]
        public var nextCursor: String?
        /// Empty when every repository was read.
        public var errors: [UnreadableRepository]

        public init(_ page: HenEngine.SnapshotPage) {
            items = page.items.map(Snapshot.init)
            nextCursor = page.nextCursor
            errors = page.unreadable
        }
    }

    /// One entry of a directory of a snapshot. Unknown values are null.
    public struct TreeEntry: Codable, Sendable, Hashable {
        public var name: String
        public var path: String
        /// `file`, `directory`, `symlink` or `other`.
        public var type: Node.Kind
        public var size: UInt64?
        /// Permission bits.
        public var mode: UInt32?
        public var mtime: Date?
        public var linkTarget: String?

        public init(_ node: Node) {
            name = node.name
            path = node.path
            type = node.kind
            size = node.size
            mode = node.mode
            mtime = node.modificationTime
            linkTarget = node.linkTarget
        }

        public var node: Node {
            Node(path: path, name: name, kind: type, size: size, mode: mode, modificationTime: mtime, linkTarget: linkTarget)
        }
    }

    /// `GET /repositories/{name}/snapshots/{id}/tree`: one directory level, a page at a time.
    public struct TreePage: Codable, Sendable {
        public var repository: String
        /// The snapshot's full id.
        public var snapshot: String
        public var path: String
        public var items: [TreeEntry]
        public var nextCursor: String?

        public init(_ page: DirectoryPage) {
            repository = page.repository
            snapshot = page.snapshotID
            path = page.path
            items = page.items.map(TreeEntry.init)
            nextCursor = page.nextCursor
        }
    }

    /// `GET /repositories/{name}/snapshots/{id}/diff`: what changed from `against` to `snapshot`, the counts
    /// and one page of changed paths, sorted by path.
    public struct SnapshotDiff: Codable, Sendable {
        /// One changed path.
        public struct Change: Codable, Sendable, Hashable {
            public var path: String
            /// `added`, `removed` or `modified`.
            public var change: SnapshotChange.Kind
            /// What the path is (in the newer snapshot, or the older one for a removal); null when the driver
            /// does not say.
            public var type: Node.Kind?

            public init(_ change: SnapshotChange) {
                self.init(path: change.path, change: change.kind, type: change.nodeKind)
            }

            public init(path: String, change: SnapshotChange.Kind, type: Node.Kind?) {
                self.path = path
                self.change = change
                self.type = type
            }
        }

        public var repository: String
        /// The newer snapshot.
        public var snapshot: Snapshot
        /// The snapshot it is compared with.
        public var against: Snapshot
        /// `driver` (restic diff) or `trees` (the two indexed trees compared).
        public var method: SnapshotDiffCounts.Method
        /// Files and other entries that are not directories, in `snapshot` only.
        public var added: Int
        public var removed: Int
        public var modified: Int
        public var bytesAdded: UInt64?
        public var bytesRemoved: UInt64?
        public var items: [Change]
        public var nextCursor: String?

        public init(_ page: SnapshotDiffPage) {
            self.init(
                repository: page.repository, snapshot: Snapshot(page.snapshot), against: Snapshot(page.against), method: page.counts.method,
                added: page.counts.added, removed: page.counts.removed, modified: page.counts.modified,
                bytesAdded: page.counts.bytesAdded, bytesRemoved: page.counts.bytesRemoved, items: page.items.map(Change.init), nextCursor: page.nextCursor
            )
        }

        public init(
            repository: String, snapshot: Snapshot, against: Snapshot, method: SnapshotDiffCounts.Method, added: Int, removed: Int, modified: Int,
            bytesAdded: UInt64?, bytesRemoved: UInt64?, items: [Change], nextCursor: String?
        ) {
            self.repository = repository
            self.snapshot = snapshot
            self.against = against
            self.method = method
            self.added = added
            self.removed = removed
            self.modified = modified
            self.bytesAdded = bytesAdded
            self.bytesRemoved = bytesRemoved
            self.items = items
            self.nextCursor = nextCursor
        }
    }
}
