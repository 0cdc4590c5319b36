import Foundation
import HenPluginProtocol
import HenProcess
import Synchronization

extension Rsync {
    func programs() async throws(DriverError) -> [String] {
        let local = Mutex<String?>(nil)
        let outcome = try await rsync(["--version"]) { line in local.withLock { $0 = $0 ?? line } }
        guard outcome.result.exitCode == 0, let first = local.withLock({ $0 }) else { throw failure(outcome, doing: "run rsync --version") }
        var programs = ["\(first.split(separator: " ").joined(separator: " ")) (\(rsyncExecutable))"]
        if let remote {
            let there = Mutex<String?>(nil)
            let outcome = try await shell("rsync --version", inRoot: false) { line in there.withLock { $0 = $0 ?? line } }
            guard outcome.result.exitCode == 0, let line = there.withLock({ $0 }) else { throw failure(outcome, doing: "run rsync on \(remote)") }
            programs.append("\(line.split(separator: " ").joined(separator: " ")) (on \(remote))")
        }
        return programs
    }

    func isInitialized() async throws(DriverError) -> Bool {
        let outcome = try await shell("[ -f \(Self.marker) ] || exit 3")
        if outcome.result.exitCode == 0 { return true }
        if outcome.result.exitCode == 3 { return false }
        throw failure(outcome, doing: "look for the repository")
    }

    func initialize() async throws(DriverError) -> InitializeResult {
        if try await isInitialized() { return .alreadyInitialized }
        try await succeed(
            """
            mkdir -p -- "$0/snapshots" && cd -- "$0" || exit 1
            [ -f \(Self.marker) ] && exit 0
            printf '%s\\n' '{"hen":1,"format":"rsync-link-dest","layout":"snapshots/<host>/<time>-<id>/{files/,snapshot.json}"}' > \(Self.marker).tmp && mv -- \(Self.marker).tmp \(Self.marker)
            """, doing: "create the repository", inRoot: false)
        return .created
    }

    /// One backup: rsync into `snapshots/<host>/.incomplete-<name>/files` with unchanged files hard-linked to
    /// the previous snapshot's, count what is there, write the metadata, and only then rename the directory
    /// to its final name. An interrupted backup (SIGINT: rsync is stopped and drained) removes its directory;
    /// one killed outright leaves a dot-directory that is never listed and that the next backup removes.
    func backup() async throws(DriverError) -> BackupSummary {
        let backup = try PluginSnapshots.checkPaths(request.backup, repository: repository.name)
        if request.readOnly { throw DriverError(.invalidRequest, "Repository \"\(repository.name)\" is open read-only: no backup is written.") }
        let started = ContinuousClock.now
        let existing = try await entries()
        // The engine's parent when it is one of ours, else this backup's newest snapshot, else the host's newest.
        let backupTag = backup.tags.first { $0.hasPrefix("backup=") }
        let parent = backup.parent.flatMap { id in existing.first { $0.metadata.id == id } }
            ?? existing.last { entry in backupTag.map(entry.metadata.tags.contains) ?? false }
            ?? existing.last
        let time = Date()
        let id = Self.randomHex(bytes: 32)
        let name = Self.directoryName(time: time, id: id)
        let incomplete = hostPath + "/.incomplete-" + name
        try await succeed(
            """
            [ -f \(Self.marker) ] || exit 3
            mkdir -p -- "$1" && cd -- "$1" || exit 1
            for d in .incomplete-*; do [ -d "$d" ] || continue; find "$d" -type d ! -perm -u+w -exec chmod u+w {} + 2>/dev/null; rm -rf -- "$d"; done
            mkdir -- "$2"
            """, [hostPath, ".incomplete-" + name], doing: "prepare the snapshot directory")

        var arguments = ["-a", "-R", "-s", "--numeric-ids", "--stats", "--no-human-readable", "--out-format=%i\t%l\t%n%L"]
        arguments += Self.bandwidthLimit(repository.limits.uploadBytesPerSecond)
        if let parent { arguments.append("--link-dest=../../\(parent.directory)/files") }
        for pattern in backup.excludes { arguments.append("--exclude=" + pattern) }
        arguments.append("--")
        arguments += backup.paths
        arguments.append(rsyncPath(incomplete + "/files/"))

        let counter = ItemCounter(output: output, started: started)
        let outcome: Outcome
        do {
            outcome = try await rsync(arguments, onStdout: counter.take)
        } catch {
            await removeIncomplete(incomplete)
            throw error
        }
        var warnings: [String] = []
        switch outcome.result.exitCode {
        case 0: break
        case 23, 24:
            // Some files could not be read or vanished: the rest is a snapshot, as restic's exit code 3.
            warnings = outcome.stderr.filter { $0.hasPrefix("rsync: ") || $0.hasPrefix("file has vanished") || $0.contains("Permission denied") }
            if warnings.isEmpty { warnings = ["rsync could not transfer every file (exit code \(outcome.result.exitCode ?? 0))."] }
            warnings.forEach(output.warning)
        default:
            await removeIncomplete(incomplete)
            throw failure(outcome, doing: "back up with rsync")
        }
        let (files, bytes) = try await measure(incomplete + "/files")
        let counts = counter.counts()
        let duration = Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        let metadata = SnapshotMetadata(
            id: id, time: time.timeIntervalSince1970, host: request.host, tags: backup.tags, paths: backup.paths, parent: parent?.metadata.id,
            files: files, bytes: bytes,
            summary: .init(
                filesNew: counts.filesNew, filesChanged: counts.filesChanged, filesUnmodified: counts.filesUnmodified,
                dirsNew: counts.dirsNew, dirsChanged: counts.dirsChanged, dirsUnmodified: counts.dirsUnmodified,
                dataAdded: counts.dataAdded, duration: duration
            )
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = ((try? encoder.encode(metadata)) ?? Data()) + Data([0x0A])
        do {
            try await succeed(
                """
                cd -- "$1" || exit 1
                cat > "$2/snapshot.json" || exit 1
                [ ! -e "$3" ] || { echo "$3 exists already" >&2; exit 1; }
                mv -- "$2" "$3"
                """, [hostPath, ".incomplete-" + name, name], doing: "complete the snapshot", input: [UInt8](json))
        } catch {
            await removeIncomplete(incomplete)
            throw error
        }
        return BackupSummary(
            snapshotID: id,
            filesNew: counts.filesNew, filesChanged: counts.filesChanged, filesUnmodified: counts.filesUnmodified,
            dirsNew: counts.dirsNew, dirsChanged: counts.dirsChanged, dirsUnmodified: counts.dirsUnmodified,
            dataAdded: counts.dataAdded, totalFilesProcessed: counts.totalFiles, totalBytesProcessed: counts.totalBytes,
            duration: duration, warnings: warnings, snapshot: metadata.snapshot, parentSnapshotID: parent?.metadata.id
        )
    }

    /// Removes a backup's unfinished directory, even when the backup was cancelled (in a task of its own,
    /// which the cancellation does not reach). A failure here leaves a dot-directory that no listing shows.
    func removeIncomplete(_ path: String) async {
        let rsync = self
        _ = await Task.detached {
            try? await rsync.shell(
                """
                [ -d "$1" ] || exit 0
                find "$1" -type d ! -perm -u+w -exec chmod u+w {} + 2>/dev/null
                rm -rf -- "$1"
                """, [path])
        }.value
    }

    /// The regular files below `path` (relative to the root) and their bytes, as `check` counts them again.
    func measure(_ path: String) async throws(DriverError) -> (files: UInt64, bytes: UInt64) {
        let line = Mutex<String>("")
        try await succeed(Self.measureScript, [path], doing: "count the snapshot's files") { text in line.withLock { $0 = text } }
        let parts = line.withLock { $0 }.split(separator: "\t")
        guard parts.count == 2, let files = UInt64(parts[0]), let bytes = UInt64(parts[1]) else {
            throw DriverError(.failed, "Repository \"\(repository.name)\": counting the files of \(path) gave no count.")
        }
        return (files, bytes)
    }

    /// Prints `<files>\t<bytes>` for the regular files below `$1`.
    static let measureScript = """
        [ -d "$1" ] || exit 4
        find "$1" -type f -printf '%s\\n' | awk '{ n++; s += $1 } END { printf "%d\\t%.0f\\n", n, s }'
        """

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// Counts what rsync's itemized lines (`%i\t%l\t%n`) say, sends progress (at most twice a second), and
/// keeps the `--stats` lines that follow them on stdout.
final class ItemCounter: Sendable {
    struct Counts: Sendable {
        var filesNew: UInt64 = 0, filesChanged: UInt64 = 0, filesUnmodified: UInt64 = 0
        var dirsNew: UInt64 = 0, dirsChanged: UInt64 = 0, dirsUnmodified: UInt64 = 0
        var dataAdded: UInt64 = 0, totalFiles: UInt64 = 0, totalBytes: UInt64 = 0
    }

    private struct State {
        var counts = Counts()
        var stats: [String] = []
        var lastProgress: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let output: PluginMain.Output
    private let started: ContinuousClock.Instant

    init(output: PluginMain.Output, started: ContinuousClock.Instant) {
        self.output = output
        self.started = started
    }

    func take(_ line: String) {
        let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 11 else {
            if !line.isEmpty { state.withLock { $0.stats.append(line) } }
            return
        }
        let item = Array(parts[0])
        let size = UInt64(parts[1]) ?? 0
        let isNew = parts[0].dropFirst(2).allSatisfy { $0 == "+" }
        let progress: HenPluginProtocol.Progress? = state.withLock { state in
            switch (item[0], item[1]) {
            case (">", "f"), ("<", "f"):
                // `>` received here, `<` sent to the remote side: a file whose data was transferred.
                if isNew { state.counts.filesNew += 1 } else { state.counts.filesChanged += 1 }
                state.counts.dataAdded += size
            case (_, "d"):
                // A directory is itemized when it is new or its attributes differ from the previous snapshot's.
                if isNew { state.counts.dirsNew += 1 } else { state.counts.dirsChanged += 1 }
            default: break
            }
            let now = ContinuousClock.now
            guard state.lastProgress.map({ now - $0 >= .milliseconds(500) }) ?? true else { return nil }
            state.lastProgress = now
            return HenPluginProtocol.Progress(
                filesDone: state.counts.filesNew + state.counts.filesChanged, bytesDone: state.counts.dataAdded,
                secondsElapsed: Double((now - started).components.seconds), currentFiles: [String(parts[2])]
            )
        }
        if let progress { output.progress(progress) }
    }

    /// The counts, completed from rsync's `--stats` (`Number of files: N (reg: R, dir: D, …)`,
    /// `Total file size: B bytes`): what was neither new nor changed is unmodified (a hard link).
    func counts() -> Counts {
        state.withLock { state in
            var counts = state.counts
            for line in state.stats {
                if line.hasPrefix("Number of files:") {
                    let regular = Self.number(after: "reg: ", in: line) ?? 0
                    let directories = Self.number(after: "dir: ", in: line) ?? 0
                    counts.totalFiles = regular
                    counts.filesUnmodified = regular - min(regular, counts.filesNew + counts.filesChanged)
                    counts.dirsUnmodified = directories - min(directories, counts.dirsNew + counts.dirsChanged)
                } else if line.hasPrefix("Total file size:") {
                    counts.totalBytes = Self.number(after: "Total file size: ", in: line) ?? 0
                }
            }
            return counts
        }
    }

    static func number(after prefix: String, in line: String) -> UInt64? {
        guard let range = line.range(of: prefix) else { return nil }
        return UInt64(line[range.upperBound...].prefix { $0.isNumber })
    }
}
