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
        var arguments = ["backup", "--json", "--host", context.hostname]
        for tag in request.tags { arguments += ["--tag", tag] }
        for pattern in request.excludes { arguments += ["--exclude", pattern] }
        arguments.append("--")
        arguments += request.paths

        var summary: ResticMessage?
        var warnings: [String] = []
        let result = try await runToCompletion(
            arguments,
            operation: "backup",
            limits: repository.limits.combined(with: request.limits),
            events: events,
            beforeAttempt: {
                summary = nil
                warnings = []
            },
            onLine: { line in
                guard case .stdout(let text) = line else { return }
                guard let message = ResticMessage.decode(text) else {
                    log(text, events: events)
                    return
                }
                switch message.messageType {
                case "status":
                    events(.progress(Progress(
                        fraction: message.percentDone,
                        filesDone: message.filesDone,
                        totalFiles: message.totalFiles,
                        bytesDone: message.bytesDone,
                        totalBytes: message.totalBytes,
                        secondsElapsed: message.secondsElapsed,
                        secondsRemaining: message.secondsRemaining,
                        currentFiles: message.currentFiles ?? []
                    )))
                case "error":
                    let warning = message.errorText
                    warnings.append(warning)
                    events(.warning(warning))
                case "summary":
                    summary = message
                case "verbose_status":
                    if let item = message.item { events(.log(level: .debug, message: item)) }
                default:
                    break
                }
            },
            // Exit 3: the snapshot was made, but some files could not be read.
            accept: { result in (result.exitCode == 0 || result.exitCode == 3) && summary != nil }
        )
        guard let summary, let shortID = summary.snapshotId else {
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
            warnings: warnings
        )
    }

    /// restic before 0.17 reports the new snapshot by its short id; the rest of Hen uses full ids.
    /// Falls back to the short id if the lookup fails (the snapshot exists either way).
    private func fullSnapshotID(_ id: String) async -> String {
        guard id.count < 64 else { return id }
        return (try? await resolveSnapshot(id).id) ?? id
    }
}
