import Foundation
import HenProcess
import Synchronization

/// The last snapshot time this process gave each repository (by location).
private let lastSnapshotTimes = Mutex<[String: Date]>([:])

extension ResticDriver {
    /// The time of a new snapshot: now, in whole seconds (what `--time` takes), and later than the last one this
    /// process gave the same repository. Two backups within one second would otherwise get the same time,
    /// and restic could not tell which is the latest (`forget --keep-last`, the parent it picks).
    static func snapshotTime(for location: String, now: Date = Date()) -> Date {
        let second = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return lastSnapshotTimes.withLock { times in
            var time = second
            if let last = times[location], last >= time { time = last.addingTimeInterval(1) }
            times[location] = time
            return time
        }
    }

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
        // The snapshot's time is Hen's, given to restic (whole seconds, in UTC: no local time is ambiguous), so
        // that the summary plus what Hen passed describe the new snapshot without listing the repository.
        let time = Self.snapshotTime(for: repository.location)
        var arguments = ["backup", "--json", "--host", context.hostname, "--time", Self.resticTime(time)]
        for tag in request.tags { arguments += ["--tag", tag] }
        for pattern in request.excludes { arguments += ["--exclude", pattern] }
        // The parent the engine chose (restic 0.14 would pick the newest snapshot of this host whose paths
        // include these, whichever backup made it): the summary's counts are then against it.
        var parent = request.parent.flatMap { Self.isFullID($0) ? $0.lowercased() : nil }

        let limits = repository.limits.combined(with: request.limits)
        let result: ChildProcessResult
        let report: ResticRunReport
        do {
            (result, report) = try await runBackup(arguments + (parent.map { ["--parent", $0] } ?? []) + ["--"] + request.paths, limits: limits, events: events)
        } catch {
            // The parent is gone (forgotten outside Hen): restic refused before reading anything. Back up
            // against restic's own choice, which the summary then does not name.
            guard let gone = parent, (error as? DriverError)?.code == .snapshotNotFound else { throw error }
            events(.log(level: .warning, message: "The parent snapshot \(gone.prefix(8)) is no longer in repository \(repository.name); backing up against the parent restic chooses."))
            parent = nil
            (result, report) = try await runBackup(arguments + ["--"] + request.paths, limits: limits, events: events)
        }
        guard let summary = report.summary, let shortID = summary.snapshotId else {
            throw failure(.failed, "Repository \"\(repository.name)\": restic backup ended with \(result) but reported no snapshot.",
                          detail: result.stderrTail.joined(separator: "\n"))
        }
        // On a local disk one read of `snapshots/` gives the full id and whether the snapshot is alone there.
        let localSnapshots = localSnapshotIDs()
        let snapshotID = await fullSnapshotID(shortID, among: localSnapshots)
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
            warnings: report.warnings,
            // Only with its full id: a short one left by a failed lookup would make a wrong cache entry.
            snapshot: snapshotID.count == 64 ? Snapshot(id: snapshotID, time: time, host: context.hostname, tags: request.tags, paths: Self.snapshotPaths(request.paths), parent: parent) : nil,
            parentSnapshotID: parent,
            onlySnapshot: snapshotID.count == 64 ? localSnapshots.map { $0 == [snapshotID] } : nil
        )
    }

    /// One `restic backup` run (retried once when a stale lock was removed): its result and what it reported.
    private func runBackup(_ arguments: [String], limits: TransferLimits, events: DriverEventHandler) async throws -> (ChildProcessResult, ResticRunReport) {
        var report = ResticRunReport()
        let result = try await runToCompletion(
            arguments,
            operation: "backup",
            limits: limits,
            environment: ["TZ": "UTC"],
            events: events,
            beforeAttempt: { report = ResticRunReport() },
            onLine: { line in follow(line, into: &report, events: events) },
            // Exit 3: the snapshot was made, but some files could not be read.
            accept: { result in (result.exitCode == 0 || result.exitCode == 3) && report.summary != nil }
        )
        return (result, report)
    }

    /// restic's `--time` layout, in UTC (restic reads it in its own zone, which the backup's environment sets to UTC).
    static func resticTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// The paths restic records for a backup of `paths`: absolute, cleaned (no `.`, `..`, doubled or trailing
    /// slashes) and sorted, as restic's `NewSnapshot` stores them.
    static func snapshotPaths(_ paths: [String]) -> [String] {
        paths.map { path in
            var parts: [Substring] = []
            for part in path.split(separator: "/") where part != "." {
                if part == ".." { _ = parts.popLast() } else { parts.append(part) }
            }
            return "/" + parts.joined(separator: "/")
        }.sorted()
    }

    /// restic before 0.17 reports the new snapshot by its short id; the rest of Hen uses full ids.
    /// A repository on a local disk names its snapshot files by full id, so a directory read finds it
    /// without another restic run (which would open the repository again); elsewhere restic lists the
    /// snapshots. Falls back to the short id if the lookup fails (the snapshot exists either way).
    ///
    /// The lookup runs even when the job is being stopped: the snapshot was made, and a stop that came
    /// as restic finished used to leave the record with a short id. It is not cancelled with the job (an
    /// unstructured task), but it keeps the job's stop urgency (a task-local), so a second signal still
    /// hurries it.
    private func fullSnapshotID(_ id: String, among local: [String]?) async -> String {
        guard id.count < 64 else { return id }
        if let local, let found = Self.snapshotID(prefix: id, among: local) { return found }
        let lookup = Task { (try? await resolveSnapshot(id).id) ?? id }
        return await lookup.value
    }

    /// The ids of every snapshot in a repository on a local disk (`/path` or `local:/path`: restic keeps
    /// each snapshot in `snapshots/<64 hex digits>`); nil elsewhere or when the directory cannot be read.
    func localSnapshotIDs() -> [String]? {
        var location = repository.location
        if location.hasPrefix("local:") { location.removeFirst("local:".count) }
        guard location.hasPrefix("/"), let names = try? FileManager.default.contentsOfDirectory(atPath: location + "/snapshots") else { return nil }
        return names.filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }
    }

    /// The one id in `ids` starting with `prefix` (at least 4 hex digits); nil when none or several do.
    static func snapshotID(prefix: String, among ids: [String]) -> String? {
        guard prefix.count >= 4, prefix.allSatisfy(\.isHexDigit) else { return nil }
        let matches = ids.filter { $0.hasPrefix(prefix) }
        return matches.count == 1 ? matches[0] : nil
    }
}
