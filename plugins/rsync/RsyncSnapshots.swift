import Foundation
import HenPluginProtocol
import Synchronization

/// `snapshot.json` in a snapshot's directory: what the snapshot is, and what it held when it was made (the
/// counts `check` compares with what is there now). One line of JSON.
struct SnapshotMetadata: Codable, Sendable {
    var hen: Int = 1
    var id: String
    var time: Double
    var host: String
    var tags: [String]
    var paths: [String]
    /// The snapshot the unchanged files are hard links into.
    var parent: String?
    /// Regular files and their bytes below `files/` when the snapshot was made.
    var files: UInt64
    var bytes: UInt64
    var summary: Summary

    struct Summary: Codable, Sendable {
        var filesNew: UInt64
        var filesChanged: UInt64
        var filesUnmodified: UInt64
        var dirsNew: UInt64
        var dirsChanged: UInt64
        var dirsUnmodified: UInt64
        var dataAdded: UInt64
        var duration: Double
    }

    var snapshot: Snapshot {
        Snapshot(id: id, time: Date(timeIntervalSince1970: time), host: host, tags: tags, paths: paths, parent: parent)
    }
}

/// One of this host's snapshot directories (`snapshots/<host>/<directory>`), as listed.
struct SnapshotEntry: Sendable {
    var directory: String
    var metadata: SnapshotMetadata

    var snapshot: Snapshot { metadata.snapshot }
    /// The snapshot's directory relative to the repository's root.
    func path(in rsync: Rsync) -> String { rsync.hostPath + "/" + directory }
}

extension Rsync {
    /// The name of a new snapshot's directory: its time (UTC, to the second) and the start of its id, so a
    /// person browsing the repository sees them in order.
    static func directoryName(time: Date, id: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HHmmss'Z'"
        return formatter.string(from: time) + "-" + id.prefix(8)
    }

    /// What `snapshots/<host>` holds: each directory's name and its metadata's text (nil: no metadata file).
    /// Names starting with a dot (backups in progress, snapshots being forgotten) are not snapshots.
    func directories() async throws(DriverError) -> [(directory: String, metadata: String?)] {
        let found = Mutex<[(directory: String, metadata: String?)]>([])
        let pending = Mutex<String?>(nil)
        let script = """
            [ -f \(Self.marker) ] || exit 3
            [ -d "$1" ] || exit 0
            cd -- "$1" || exit 1
            for d in */; do
              d=${d%/}
              [ -d "$d" ] || continue
              if [ -f "$d/snapshot.json" ]; then printf 'M%s\\0' "$d"; cat "$d/snapshot.json"; printf '\\0'; else printf 'D%s\\0' "$d"; fi
            done
            """
        let outcome = try await fields(script, [hostPath]) { field in
            if let directory = pending.withLock({ value in defer { value = nil }; return value }) {
                found.withLock { $0.append((directory, field)) }
            } else if field.hasPrefix("M") {
                pending.withLock { $0 = String(field.dropFirst()) }
            } else if field.hasPrefix("D") {
                found.withLock { $0.append((String(field.dropFirst()), nil)) }
            }
        }
        guard outcome.result.exitCode == 0 else { throw failure(outcome, doing: "list the snapshots") }
        return found.withLock { $0 }
    }

    func snapshots() async throws(DriverError) -> [Snapshot] {
        try await entries().map(\.snapshot)
    }

    /// This host's snapshots, oldest first. A directory whose metadata is missing or unreadable is left out
    /// (`check` reports it).
    func entries() async throws(DriverError) -> [SnapshotEntry] {
        var entries: [SnapshotEntry] = []
        for (directory, text) in try await directories() {
            guard let text, let metadata = try? JSONDecoder().decode(SnapshotMetadata.self, from: Data(text.utf8)), metadata.host == request.host else { continue }
            entries.append(SnapshotEntry(directory: directory, metadata: metadata))
        }
        return entries.sorted { $0.metadata.time < $1.metadata.time }
    }

    /// The snapshot `id` (full or a unique prefix) names among this host's.
    func entry(_ id: String) async throws(DriverError) -> SnapshotEntry {
        let entries = try await entries()
        let snapshot = try PluginSnapshots.find(id, in: entries.map(\.snapshot), repository: repository.name, host: request.host)
        guard let entry = entries.first(where: { $0.metadata.id == snapshot.id }) else {
            throw DriverError(.snapshotNotFound, "Repository \"\(repository.name)\": no snapshot \(id) of host \(request.host).")
        }
        return entry
    }
}
