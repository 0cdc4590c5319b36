import Foundation
import HenProcess

extension ResticDriver {
    /// `restic diff --json OLDER NEWER` (restic 0.14 has it): one `change` line per path (`+`, `-`, `M`
    /// content, `T` type; directories end in `/`), then one `statistics` line. Metadata-only changes are not
    /// asked for (`--metadata`), so directories appear only when added or removed.
    public func diff(from older: String, to newer: String) -> AsyncThrowingStream<SnapshotDiffItem, any Error> {
        outputStream(of: SnapshotDiffItem.self, operation: "diff", bufferSize: 64) { sink in
            // Both resolved among this host's snapshots (one listing): another host's id is "not found", as everywhere.
            guard Self.isSnapshotReference(older), Self.isSnapshotReference(newer), older.lowercased() != "latest", newer.lowercased() != "latest" else {
                throw snapshotNotFound(Self.isSnapshotReference(older) && older.lowercased() != "latest" ? newer : older)
            }
            var from: [Snapshot] = []
            var to: [Snapshot] = []
            for try await snapshot in snapshots(SnapshotFilter()) {
                if snapshot.id.hasPrefix(older.lowercased()) { from.append(snapshot) }
                if snapshot.id.hasPrefix(newer.lowercased()) { to.append(snapshot) }
            }
            if Task.isCancelled { throw cancelled("diff") }
            guard from.count == 1, let from = from.first else { throw from.isEmpty ? snapshotNotFound(older) : failure(.invalidRequest, "Repository \"\(repository.name)\": \(older) matches several snapshots; give more of the id.") }
            guard to.count == 1, let to = to.first else { throw to.isEmpty ? snapshotNotFound(newer) : failure(.invalidRequest, "Repository \"\(repository.name)\": \(newer) matches several snapshots; give more of the id.") }
            let decoder = ResticJSON.decoder()
            try await consumeOutput(["diff", "--json", from.id, to.id], operation: "diff", source: { ChildProcess.lines($0, onStderrLine: debugLog) }) { line in
                guard let message = try? decoder.decode(ResticDiffMessage.self, from: Data(line.utf8)) else { return true }
                switch message.messageType {
                case "change":
                    guard let item = message.change else { return true }
                    return await sink.send(.change(item))
                case "statistics":
                    return await sink.send(.statistics(SnapshotDiffStatistics(bytesAdded: message.added?.bytes, bytesRemoved: message.removed?.bytes)))
                default:
                    return true
                }
            }
        }
    }
}

/// One line of `restic diff --json`.
struct ResticDiffMessage: Decodable {
    var messageType: String?
    var path: String?
    var modifier: String?
    var added: Totals?
    var removed: Totals?

    struct Totals: Decodable {
        var bytes: UInt64?
    }

    /// A `change` line as a change: `+` added, `-` removed, `M` or `T` modified; anything else (`U`, only
    /// printed with `--metadata`) is not a change Hen reports.
    var change: SnapshotChange? {
        guard var path, let modifier, !path.isEmpty else { return nil }
        let isDirectory = path.count > 1 && path.hasSuffix("/")
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let kind: SnapshotChange.Kind
        if modifier.contains("+") {
            kind = .added
        } else if modifier.contains("-") {
            kind = .removed
        } else if modifier.contains("M") || modifier.contains("T") {
            kind = .modified
        } else {
            return nil
        }
        return SnapshotChange(path: path, kind: kind, nodeKind: isDirectory ? .directory : nil)
    }
}
