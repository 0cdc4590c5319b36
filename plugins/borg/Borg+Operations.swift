import Foundation
import HenPluginProtocol
import HenProcess
import Synchronization

extension Borg {
    func programs() async throws(DriverError) -> [String] {
        let lines = Mutex<[String]>([])
        try await succeed(["--version"], onStdout: { line in lines.withLock { $0.append(line) } })
        return ["\(lines.withLock { $0.joined(separator: " ") }) (\(executable))"]
    }

    func snapshots() async throws(DriverError) -> [Snapshot] {
        try await archives().map(\.snapshot)
    }

    func unlock() async throws(DriverError) {
        throw DriverError(.unsupported, "borg removes the stale locks of its own dead processes itself; the borg driver has no unlock.")
    }

    // diff: not in the description; Hen compares two borg archives through its snapshot index instead.

    func isInitialized() async throws(DriverError) -> Bool {
        let outcome = try await run(["info", "--json"])
        if outcome.result.exitCode == 0 { return true }
        let error = classify(outcome, command: "info")
        if error.code == .repositoryMissing { return false }
        throw error
    }

    func initialize() async throws(DriverError) -> InitializeResult {
        if try await isInitialized() { return .alreadyInitialized }
        // borg's advice after init (export the key, older versions) is for the job log, not a warning.
        let outcome = try await run(["init", "--encryption=repokey-blake2"], warningsAsLog: true)
        if outcome.result.exitCode == 0 {
            // Hen cannot show borg's advice to export the key; the key is in the repository (repokey).
            return outcome.errors.contains { $0.msgid == "Repository.AlreadyExists" } ? .alreadyInitialized : .created
        }
        if outcome.errors.contains(where: { $0.msgid == "Repository.AlreadyExists" }) { return .alreadyInitialized }
        throw classify(outcome, command: "init")
    }

    /// restic's exclude patterns as borg `sh:` patterns: an absolute pattern is anchored at the root, any
    /// other matches at any depth (`*.tmp` is `sh:**/*.tmp`).
    static func borgPattern(_ restic: String) -> String {
        restic.hasPrefix("/") ? "sh:" + restic : "sh:**/" + restic
    }

    func backup() async throws(DriverError) -> BackupSummary {
        let backup = try PluginSnapshots.checkPaths(request.backup, repository: repository.name)
        let now = Date()
        let label = ArchiveLabel(host: request.host, tags: backup.tags, paths: backup.paths, time: now.timeIntervalSince1970)
        let labelText = String(decoding: (try? JSONEncoder().encode(label)) ?? Data(), as: UTF8.self)
        // borg replaces {placeholders} in comments: braces are doubled to stay braces.
        let comment = labelText.replacingOccurrences(of: "{", with: "{{").replacingOccurrences(of: "}", with: "}}")
        var arguments = ["create", "--json", "--progress", "--comment", comment]
        for pattern in backup.excludes { arguments += ["--exclude", Self.borgPattern(pattern)] }
        arguments.append("::" + archiveName(time: now))
        arguments += backup.paths
        let lines = Mutex<[String]>([])
        let output = self.output
        let started = ContinuousClock.now
        let outcome = try await succeed(arguments, warningsAreSuccess: true, onStdout: { line in lines.withLock { $0.append(line) } }, onProgress: { object in
            guard object["type"] as? String == "archive_progress", object["finished"] as? Bool != true else { return }
            output.progress(Progress(
                filesDone: (object["nfiles"] as? NSNumber)?.uint64Value,
                bytesDone: (object["original_size"] as? NSNumber)?.uint64Value,
                secondsElapsed: Double((ContinuousClock.now - started).components.seconds),
                currentFiles: (object["path"] as? String).map { ["/" + $0] } ?? []
            ))
        })
        let text = lines.withLock { $0.joined(separator: "\n") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let archive = object["archive"] as? [String: Any], let id = archive["id"] as? String
        else {
            throw DriverError(.failed, "Repository \"\(repository.name)\": borg create ended with \(outcome.result) but reported no archive.")
        }
        let stats = archive["stats"] as? [String: Any] ?? [:]
        return BackupSummary(
            snapshotID: id,
            dataAdded: (stats["deduplicated_size"] as? NSNumber)?.uint64Value ?? 0,
            totalFilesProcessed: (stats["nfiles"] as? NSNumber)?.uint64Value ?? 0,
            totalBytesProcessed: (stats["original_size"] as? NSNumber)?.uint64Value ?? 0,
            duration: (archive["duration"] as? NSNumber)?.doubleValue ?? 0,
            warnings: [],
            // borg's A/M/U statuses follow its files cache, not the previous archive: Hen counts the changes
            // against the parent with `diff` instead.
            fileCountsKnown: false
        )
    }

    /// A path inside a snapshot (`/home/me`) as borg stores it (`home/me`).
    static func stored(_ path: String) -> String {
        String(path.drop { $0 == "/" })
    }

    /// `borg list --json-lines` of one archive below `path`, as nodes, sent as they come.
    func list() async throws(DriverError) {
        let archive = try await archive(request.snapshot ?? "")
        var arguments = ["list", "--json-lines", "::" + archive.name]
        if let path = request.path, path != "/" { arguments.append(Self.stored(path)) }
        let output = self.output
        try await succeed(arguments, onStdout: { line in
            if let node = Self.node(line) { output.send(.node(node)) }
        })
    }

    static func node(_ line: String) -> Node? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let path = object["path"] as? String, let type = object["type"] as? String
        else { return nil }
        let kind: Node.Kind = switch type {
        case "-": .file
        case "d": .directory
        case "l": .symlink
        default: .other
        }
        let mode = (object["mode"] as? String).map(permissionBits)
        let time = (object["mtime"] as? String).flatMap(utcDate)
        let target = (object["linktarget"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return Node(path: "/" + path, kind: kind, size: kind == .file ? (object["size"] as? NSNumber)?.uint64Value : nil, mode: mode, modificationTime: time, linkTarget: target)
    }

    /// `-rwsr-xr-x` as permission bits (with set-id and sticky bits).
    static func permissionBits(_ text: String) -> UInt32 {
        let characters = Array(text.dropFirst())
        guard characters.count == 9 else { return 0 }
        var mode: UInt32 = 0
        for (index, character) in characters.enumerated() {
            // s and t include the execute bit; S and T do not.
            if "rwxst".contains(character) { mode |= 1 << UInt32(8 - index) }
        }
        if "sS".contains(characters[2]) { mode |= 0o4000 }
        if "sS".contains(characters[5]) { mode |= 0o2000 }
        if "tT".contains(characters[8]) { mode |= 0o1000 }
        return mode
    }

    /// borg's `2026-12-07T00:26:03.338267` (UTC, as the environment asks).
    static func utcDate(_ text: String) -> Date? {
        let parts = text.split(separator: ".", maxSplits: 1)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let fields = parts[0].split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        guard fields.count == 6, let date = calendar.date(from: DateComponents(year: fields[0], month: fields[1], day: fields[2], hour: fields[3], minute: fields[4], second: fields[5])) else { return nil }
        let fraction = parts.count == 2 ? (Double("0." + parts[1]) ?? 0) : 0
        return date.addingTimeInterval(fraction)
    }

    func dump() async throws(DriverError) {
        let archive = try await archive(request.snapshot ?? "")
        let path = request.path ?? "/"
        let stored = Self.stored(path)
        var kind: Node.Kind = .directory
        if !stored.isEmpty {
            let nodes = Mutex<[Node]>([])
            try await succeed(["list", "--json-lines", "::" + archive.name, stored], onStdout: { line in
                if let node = Self.node(line), node.path == "/" + stored { nodes.withLock { $0.append(node) } }
            })
            guard let node = nodes.withLock({ $0.first }) else {
                throw DriverError(.pathNotFound, "Repository \"\(repository.name)\": \(path) is not in snapshot \(archive.id.prefix(8)).")
            }
            kind = node.kind
        }
        let arguments = kind == .directory
            ? ["export-tar", "--log-json", "::" + archive.name, "-"] + (stored.isEmpty ? [] : [stored])
            : ["extract", "--log-json", "--stdout", "::" + archive.name, stored]
        let process = ChildProcessRequest(
            executable: executable, arguments: arguments, environment: environment,
            secrets: [repository.password].compactMap { $0 } + Array(repository.environment.values), terminationGrace: .seconds(30)
        )
        await output.streamAndExit(ChildProcess.bytes(process), what: "borg \(arguments[0])")
    }

    func restore() async throws(DriverError) -> RestoreSummary {
        guard let restore = request.restore else { throw DriverError(.invalidRequest, "The restore request has no restore.") }
        let archive = try await archive(restore.snapshot)
        do {
            try FileManager.default.createDirectory(atPath: restore.target, withIntermediateDirectories: true)
        } catch {
            throw DriverError(.failed, "Repository \"\(repository.name)\": the restore target \(restore.target) cannot be created: \(error.localizedDescription)")
        }
        let output = self.output
        let warnings = Mutex<[String]>([])
        let outcome = try await run(["extract", "--progress", "::" + archive.name] + restore.includes.map(Self.stored), workingDirectory: restore.target, onProgress: { object in
            if object["type"] as? String == "progress_percent", let current = object["current"] as? NSNumber, let total = object["total"] as? NSNumber, total.doubleValue > 0 {
                output.progress(Progress(fraction: current.doubleValue / total.doubleValue, bytesDone: current.uint64Value, totalBytes: total.uint64Value))
            }
        })
        if outcome.result.exitCode == 1 {
            warnings.withLock { $0 += outcome.errors.map(\.message) }
        } else if outcome.result.exitCode != 0 {
            throw classify(outcome, command: "extract")
        }
        return RestoreSummary(warnings: warnings.withLock { $0 })
    }

    func forget() async throws(DriverError) -> ForgetSummary {
        guard let forget = request.forget else { throw DriverError(.invalidRequest, "The forget request has no forget.") }
        let archives = try await archives()
        let plan = try PluginSnapshots.plan(forget, of: archives.map(\.snapshot), repository: repository.name, host: request.host)
        let remove = archives.filter { archive in plan.remove.contains { $0.id == archive.id } }
        let keep = plan.keep
        if !remove.isEmpty {
            try await succeed(["delete", "::" + remove[0].name] + remove.dropFirst().map(\.name))
        }
        if forget.prune {
            try await succeed(["compact"])
        }
        return ForgetSummary(kept: keep.map(\.id), removed: remove.map(\.id), pruned: forget.prune)
    }

    /// `borg check` of the repository and archives; a data subset is read back by extracting (dry run,
    /// which decrypts and authenticates every chunk) that part of this host's archives.
    func check() async throws(DriverError) -> CheckSummary {
        var errors: [String] = []
        let outcome = try await run(["check"])
        if outcome.result.exitCode != 0 {
            let found = outcome.errors.map(\.message)
            if found.isEmpty { throw classify(outcome, command: "check") }
            if let code = outcome.errors.first?.msgid, ["PassphraseWrong", "Repository.DoesNotExist", "LockTimeout"].contains(code) {
                throw classify(outcome, command: "check")
            }
            errors += found
        }
        if let subset = request.check?.readDataSubset {
            for archive in try await Self.subset(try await archives(), subset) {
                let read = try await run(["extract", "--dry-run", "::" + archive.name])
                if read.result.exitCode != 0 {
                    errors += read.errors.isEmpty ? ["Reading archive \(archive.id.prefix(8)) failed (\(read.result))."] : read.errors.map { "Archive \(archive.id.prefix(8)): \($0.message)" }
                }
            }
        }
        return CheckSummary(errors: errors)
    }

    /// The archives `5%`, `1/10` or `500M` selects: a share of them (at least one), the n-th of t groups,
    /// or the newest up to that many bytes (at least one).
    static func subset(_ archives: [Archive], _ text: String) async throws(DriverError) -> [Archive] {
        guard !archives.isEmpty else { return [] }
        if text.hasSuffix("%"), let percent = Double(text.dropLast()), percent > 0, percent <= 100 {
            let count = max(1, Int((Double(archives.count) * percent / 100).rounded(.up)))
            return Array(archives.shuffled().prefix(count))
        }
        let parts = text.split(separator: "/")
        if parts.count == 2, let n = Int(parts[0]), let t = Int(parts[1]), n >= 1, t >= 1, n <= t {
            return archives.enumerated().filter { $0.offset % t == n - 1 }.map(\.element)
        }
        // A size: the newest archives first, one at least (their sizes are not known without reading them).
        return [archives[archives.count - 1]]
    }

    func stats() async throws(DriverError) -> RepositoryStats {
        let lines = Mutex<[String]>([])
        try await succeed(["info", "--json"], onStdout: { line in lines.withLock { $0.append(line) } })
        let text = lines.withLock { $0.joined(separator: "\n") }
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        let stats = (object?["cache"] as? [String: Any])?["stats"] as? [String: Any]
        let count = try await archives().count
        return RepositoryStats(totalSize: (stats?["unique_csize"] as? NSNumber)?.uint64Value, totalFileCount: nil, snapshotCount: UInt64(count))
    }
}
