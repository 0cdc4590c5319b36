import Foundation

/// What a Swift plugin that keeps its own snapshot list needs to answer `forget`, `list` and the like the
/// way the built-in drivers do: finding one of this host's snapshots by its id or a unique prefix, and
/// choosing what a forget request removes.
public enum PluginSnapshots {
    /// The one snapshot of `snapshots` (this host's) that `id` names: the full id, or a unique prefix of at
    /// least 4 characters. Otherwise `snapshot_not_found`, naming the repository and the host.
    public static func find(_ id: String, in snapshots: [Snapshot], repository: String, host: String) throws(DriverError) -> Snapshot {
        let matches = snapshots.filter { $0.id == id || (id.count >= 4 && $0.id.hasPrefix(id)) }
        guard matches.count == 1, let snapshot = matches.first else {
            throw DriverError(.snapshotNotFound, "Repository \"\(repository)\": no snapshot \(id) of host \(host)\(matches.count > 1 ? " (the id is ambiguous)" : "").")
        }
        return snapshot
    }

    /// Which of `snapshots` (this host's, any order) `forget` removes and which it keeps: only those with all
    /// of the request's tags are considered; then the named ids (each must name one), or what the retention
    /// policy does not keep (restic's semantics, ``RetentionPlanner``, periods in the local time zone).
    public static func plan(_ forget: PluginRequest.Forget, of snapshots: [Snapshot], repository: String, host: String) throws(DriverError) -> (keep: [Snapshot], remove: [Snapshot]) {
        let candidates = snapshots.filter { snapshot in forget.tags.allSatisfy(snapshot.tags.contains) }
        if let ids = forget.snapshots {
            var remove: [Snapshot] = []
            for id in ids {
                let snapshot = try find(id, in: candidates, repository: repository, host: host)
                if !remove.contains(where: { $0.id == snapshot.id }) { remove.append(snapshot) }
            }
            return (candidates.filter { candidate in !remove.contains { $0.id == candidate.id } }, remove)
        }
        guard let policy = forget.policy else {
            throw DriverError(.invalidRequest, "The forget request names neither snapshots nor a policy.")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        let plan = RetentionPlanner(policy: policy, calendar: calendar).plan(candidates)
        return (
            candidates.filter { candidate in plan.keep.contains { $0.id == candidate.id } },
            candidates.filter { candidate in plan.remove.contains { $0.id == candidate.id } }
        )
    }

    /// Checks a backup request's paths: at least one, each absolute and present (`source_missing`).
    public static func checkPaths(_ backup: BackupRequest?, repository: String) throws(DriverError) -> BackupRequest {
        guard let backup, !backup.paths.isEmpty else { throw DriverError(.invalidRequest, "Repository \"\(repository)\": a backup needs at least one path.") }
        for path in backup.paths {
            guard path.hasPrefix("/") else { throw DriverError(.invalidRequest, "Repository \"\(repository)\": the backup path \(path) is not absolute.") }
            var info = stat()
            guard lstat(path, &info) == 0 else { throw DriverError(.sourceMissing, "Repository \"\(repository)\": the backup path \(path) does not exist.") }
        }
        return backup
    }
}

extension PluginRequest {
    /// The repository of a request for any operation but `describe`, which must also name its host.
    public func checkedRepository() throws(DriverError) -> Repository {
        guard let repository else { throw DriverError(.invalidRequest, "The request names no repository.") }
        guard !host.isEmpty else { throw DriverError(.invalidRequest, "The request names no host.") }
        return repository
    }
}
