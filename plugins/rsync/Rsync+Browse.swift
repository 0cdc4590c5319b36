import Foundation
import HenPluginProtocol
import HenProcess
import Synchronization

extension Rsync {
    /// A path inside a snapshot as the request gives it (`/home/me/`, nil for the whole snapshot), made
    /// `/home/me`; `..` is refused, so no path leaves the snapshot.
    func insidePath(_ path: String?) throws(DriverError) -> String {
        var path = path ?? "/"
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw DriverError(.invalidRequest, "Repository \"\(repository.name)\": \(path) is not an absolute path inside a snapshot.")
        }
        return path
    }

    /// Every node below the path (the path itself included, unless it is the whole snapshot), streamed as
    /// GNU find prints them: type, size, mode, time, link target and path, each ended by a NUL.
    func list() async throws(DriverError) {
        let entry = try await entry(request.snapshot ?? "")
        let path = try insidePath(request.path)
        let script = """
            [ -f \(Self.marker) ] || exit 3
            cd -- "$1" 2>/dev/null || exit 4
            if [ "$2" = / ]; then exec find . -mindepth 1 -printf '\(Self.nodeFormat)'; fi
            [ -e ".$2" ] || [ -L ".$2" ] || exit 5
            exec find ".$2" -printf '\(Self.nodeFormat)'
            """
        let reader = NodeReader(base: path, output: output)
        let outcome = try await fields(script, [entry.path(in: self) + "/files", path], onField: reader.take)
        switch outcome.result.exitCode {
        case 0: return
        case 4: throw DriverError(.failed, "Repository \"\(repository.name)\": snapshot \(entry.metadata.id.prefix(8)) has no files directory (run a check).")
        case 5: throw DriverError(.pathNotFound, "Repository \"\(repository.name)\": \(path) is not in snapshot \(entry.metadata.id.prefix(8)).")
        default: throw failure(outcome, doing: "list snapshot \(entry.metadata.id.prefix(8))")
        }
    }

    static let nodeFormat = "%y\\0%s\\0%m\\0%T@\\0%l\\0%P\\0"

    /// A file's bytes (`cat`), or a tar stream of a directory (entries named by their path without the
    /// leading `/`), after the `stream` line.
    func dump() async throws(DriverError) {
        let entry = try await entry(request.snapshot ?? "")
        let path = try insidePath(request.path)
        let files = entry.path(in: self) + "/files"
        let kind = Mutex<String>("")
        let probe = try await shell(
            """
            cd -- "$1" 2>/dev/null || exit 4
            if [ "$2" = / ] || { [ -d ".$2" ] && [ ! -L ".$2" ]; }; then echo d; elif [ -f ".$2" ] && [ ! -L ".$2" ]; then echo f; elif [ -e ".$2" ] || [ -L ".$2" ]; then echo o; else exit 5; fi
            """, [files, path]) { line in kind.withLock { $0 = line } }
        switch probe.result.exitCode {
        case 0: break
        case 5: throw DriverError(.pathNotFound, "Repository \"\(repository.name)\": \(path) is not in snapshot \(entry.metadata.id.prefix(8)).")
        default: throw failure(probe, doing: "read snapshot \(entry.metadata.id.prefix(8))")
        }
        let script = kind.withLock { $0 } == "f"
            ? "cd -- \"$1\" && exec cat -- \".$2\""
            : "cd -- \"$1\" || exit 1\nif [ \"$2\" = / ]; then exec tar -c -f - --numeric-owner .; fi\nexec tar -c -f - --numeric-owner -- \"${2#/}\""
        await output.streamAndExit(ChildProcess.bytes(shellProcess(script, [files, path])), what: "reading \(path)")
    }

    /// rsync from the snapshot's `files/` into the target: everything, or the include paths (with `-R` and
    /// a `/./` in each source, so they keep their absolute paths below the target).
    func restore() async throws(DriverError) -> RestoreSummary {
        guard let restore = request.restore else { throw DriverError(.invalidRequest, "The restore request has no restore.") }
        let entry = try await entry(restore.snapshot)
        let files = entry.path(in: self) + "/files"
        var includes: [String] = []
        for include in restore.includes { includes.append(try insidePath(include)) }
        if !includes.isEmpty {
            let missing = Mutex<[String]>([])
            try await succeed(
                """
                cd -- "$1" || exit 1
                shift
                for p in "$@"; do [ -e ".$p" ] || [ -L ".$p" ] || printf '%s\\n' "$p"; done
                """, [files] + includes, doing: "look up the paths to restore") { line in missing.withLock { $0.append(line) } }
            if let first = missing.withLock({ $0.first }) {
                throw DriverError(.pathNotFound, "Repository \"\(repository.name)\": \(first) is not in snapshot \(entry.metadata.id.prefix(8)).")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: restore.target, withIntermediateDirectories: true)
        } catch {
            throw DriverError(.failed, "Repository \"\(repository.name)\": the restore target \(restore.target) cannot be created: \(error.localizedDescription)")
        }
        var arguments = ["-a", "-s", "--numeric-ids", "--stats", "--no-human-readable"]
        arguments += Self.bandwidthLimit(repository.limits.downloadBytesPerSecond)
        if includes.isEmpty {
            arguments += ["--", rsyncPath(files + "/")]
        } else {
            arguments += ["-R", "--"] + includes.map { rsyncPath(files + "/." + $0) }
        }
        arguments.append(restore.target.hasSuffix("/") ? restore.target : restore.target + "/")
        let counter = ItemCounter(output: output, started: .now)
        let outcome = try await rsync(arguments, onStdout: counter.take)
        var warnings: [String] = []
        switch outcome.result.exitCode {
        case 0: break
        case 23, 24:
            warnings = outcome.stderr.filter { $0.hasPrefix("rsync: ") }
            if warnings.isEmpty { warnings = ["rsync could not restore every file (exit code \(outcome.result.exitCode ?? 0))."] }
        default: throw failure(outcome, doing: "restore with rsync")
        }
        return RestoreSummary(filesRestored: counter.counts().totalFiles, warnings: warnings)
    }
}

/// Turns the NUL-separated fields of ``Rsync/nodeFormat`` into `node` lines as they arrive.
final class NodeReader: Sendable {
    private let fields = Mutex<[String]>([])
    private let base: String
    private let output: PluginMain.Output

    init(base: String, output: PluginMain.Output) {
        self.base = base
        self.output = output
    }

    func take(_ field: String) {
        let record: [String]? = fields.withLock { fields in
            fields.append(field)
            guard fields.count == 6 else { return nil }
            defer { fields.removeAll(keepingCapacity: true) }
            return fields
        }
        guard let record else { return }
        let kind: Node.Kind = switch record[0] {
        case "f": .file
        case "d": .directory
        case "l": .symlink
        default: .other
        }
        let relative = record[5]
        let path = relative.isEmpty ? base : (base == "/" ? "/" : base + "/") + relative
        output.send(.node(Node(
            path: path, kind: kind,
            size: kind == .file ? UInt64(record[1]) : nil,
            mode: UInt32(record[2], radix: 8),
            modificationTime: Double(record[3]).map { Date(timeIntervalSince1970: $0) },
            linkTarget: kind == .symlink ? record[4] : nil
        )))
    }
}
