import Foundation
import HenPluginProtocol

/// What Hen stores in an archive's comment: the host it is confined to, the tags, the backed-up paths and
/// the precise time (borg's own archive times have whole seconds only).
struct ArchiveLabel: Codable, Sendable {
    var hen: Int = 1
    var host: String
    var tags: [String]
    var paths: [String]
    var time: Double
}

/// One of this host's archives.
struct Archive: Sendable {
    var id: String
    var name: String
    var label: ArchiveLabel

    var snapshot: Snapshot {
        Snapshot(id: id, time: Date(timeIntervalSince1970: label.time), host: label.host, tags: label.tags, paths: label.paths)
    }
}

extension Borg {
    /// The archive name for a new backup: the host, then the time, then the job tag when there is one.
    func archiveName(time: Date) -> String {
        let stamp = String(format: "%.6f", time.timeIntervalSince1970)
        let job = request.backup?.tags.first { $0.hasPrefix("job=") }.map { "-" + $0.dropFirst(4) } ?? ""
        return "\(request.host)-\(stamp)\(job)"
    }

    /// This host's archives made by Hen, oldest first (borg lists them in creation order).
    func archives() async throws(DriverError) -> [Archive] {
        let lines = Mutex<[String]>([])
        try await succeed(["list", "--json", "--format", "{comment}"], onStdout: { line in lines.withLock { $0.append(line) } })
        let text = lines.withLock { $0.joined(separator: "\n") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let entries = object["archives"] as? [[String: Any]]
        else {
            throw DriverError(.failed, "Repository \"\(repository.name)\": borg list printed no archive list.")
        }
        var archives: [Archive] = []
        for entry in entries {
            guard let id = entry["id"] as? String, let name = entry["name"] as? String, let comment = entry["comment"] as? String,
                let label = try? JSONDecoder().decode(ArchiveLabel.self, from: Data(comment.utf8)), label.host == request.host
            else { continue }
            archives.append(Archive(id: id, name: name, label: label))
        }
        return archives.sorted { $0.label.time < $1.label.time }
    }

    /// The archive a snapshot id (full, or a unique prefix) names among this host's.
    func archive(_ id: String) async throws(DriverError) -> Archive {
        let archives = try await archives()
        let snapshot = try PluginSnapshots.find(id, in: archives.map(\.snapshot), repository: repository.name, host: request.host)
        guard let archive = archives.first(where: { $0.id == snapshot.id }) else {
            throw DriverError(.snapshotNotFound, "Repository \"\(repository.name)\": no snapshot \(id) of host \(request.host).")
        }
        return archive
    }
}

import Synchronization
