import Foundation
import HenProcess

extension ResticDriver {
    public func backup(_ request: BackupRequest, events: DriverEventHandler) async throws -> BackupSummary {
        guard !request.paths.isEmpty else {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": a backup needs at least one path.")
        }
        for path in request.paths {
            guard path.hasPrefix("/") else {
                throw failure(.invalidRequest, "Repository \"\(repository.name)\": the backup path \(path) is not absolute.")
            }
            // lstat: a dangling symlink is still something to back up.
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw failure(.sourceMissing, "Repository \"\(repository.name)\": the backup path \(path) does not exist.")
            }
        }
        // restic splits a tag option at commas: a comma would turn one tag into two.
        if let tag = request.tags.first(where: { $0.contains(",") || $0.isEmpty }) {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": the tag \"\(tag)\" is empty or contains a comma, which restic cannot store.")
        }
        var arguments = ["backup", "--json", "--host", context.hostname]
        for tag in request.tags { arguments += ["--tag", tag] }
        for pattern in request.excludes { arguments += ["--exclude", pattern] }
        arguments.append("--")
        arguments += request.paths

        var report = ResticRunReport()
        let result = try await runToCompletion(
            arguments,
            operation: "backup",
            limits: repository.limits.combined(with: request.limits),
            events: events,
            beforeAttempt: { report = ResticRunReport() },
            onLine: { line in follow(line, into: &report, events: events) },
            // Exit 3: the snapshot was made, but some files could not be read.
            accept: { result in (result.exitCode == 0 || result.exitCode == 3) && report.summary != nil }
        )
        guard let summary = report.summary, let shortID = summary.snapshotId else {
            throw failure(.failed, "Repository \"\(repository.name)\": restic backup ended with \(result) but reported no snapshot.",
                          detail: result.stderrTail.joined(separator: "\n"))
        }
        let snapshotID = await fullSnapshotID(shortID)
        return BackupSummary(
            snapshotID: snapshotID,
            filesNew: summary.filesNew ?? 0,
            filesChanged: summary.filesChanged ?? 0,
            filesUnmodified: summary.filesUnmodified ?? 0,
            dirsNew: summary.dirsNew ?? 0,
            dirsChanged: summary.dirsChanged ?? 0,
            dirsUnmodified: summary.dirsUnmodified ?? 0,
            dataAdded: summary.dataAdded ?? 0,
            totalFilesProcessed: summary.totalFilesProcessed ?? 0,
            totalBytesProcessed: summary.totalBytesProcessed ?? 0,
            duration: summary.totalDuration ?? 0,
            warnings: report.warnings
        )
    }

    /// restic before 0.17 reports the new snapshot by its short id; the rest of Hen uses full ids.
    /// Falls back to the short id if the lookup fails (the snapshot exists either way).
    ///
    /// The lookup runs even when the job is being stopped: the snapshot was made, and a stop that came
    /// as restic finished used to leave the record with a short id. It is not cancelled with the job (an
    /// unstructured task), but it keeps the job's stop urgency (a task-local), so a second signal still
    /// hurries it.
    private func fullSnapshotID(_ id: String) async -> String {
        guard id.count < 64 else { return id }
        let lookup = Task { (try? await resolveSnapshot(id).id) ?? id }
        return await lookup.value
    }
}
