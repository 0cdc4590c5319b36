import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A driver that keeps each snapshot as a gzip-compressed tar archive plus a JSON-lines manifest in a
/// local directory. It proves the driver contract does not lean on restic, and gives users a repository
/// they can read with nothing but `tar`.
///
/// Layout of a repository directory:
/// - `hen-tar-repository.json`: the format version; its presence means "initialized".
/// - `snapshots/<id>.tar.gz`: the snapshot's files (member names are snapshot paths without the `/`).
/// - `snapshots/<id>.manifest.jsonl`: first line the snapshot (id, time, host, tags, paths), then one line
///   per member in archive order (path, kind, size, mode, uid, gid, mtime, sha256 of files, link target).
/// - `tmp/`: work in progress; `locks/`: the writers' lock.
///
/// Writes are atomic: archive and manifest are written under `tmp/`, fsynced, and renamed into
/// `snapshots/` with the manifest last, so a snapshot exists exactly when its manifest does; a failed or
/// cancelled backup leaves nothing visible. Forget removes the manifest first, then the archive.
///
/// Limits: the driver has no encryption, no deduplication (every snapshot is a full archive) and does not
/// support bandwidth limits: `TransferLimits` given in a request or a repository are ignored. The
/// repository password is not used. Only local paths are accepted as locations.
public struct TarDriver: BackupDriver {
    public static let configurationFileName = "hen-tar-repository.json"

    let repository: RepositoryTarget
    let context: DriverContext
    /// The repository directory (absolute).
    let root: String
    let tools: TarTools

    public init(repository: RepositoryTarget, context: DriverContext) throws {
        var location = repository.location
        if location.hasPrefix("local:") { location.removeFirst("local:".count) }
        if let colon = location.firstIndex(of: ":"), !location[..<colon].contains("/") {
            throw DriverError(
                .invalidRequest,
                "Repository \(repository.name) uses the tar driver, which only writes to a local directory, but its location is \(location).",
                repository: repository.name
            )
        }
        guard !location.isEmpty else {
            throw DriverError(.invalidRequest, "Repository \(repository.name) has an empty location.", repository: repository.name)
        }
        if location.hasPrefix("~/") {
            location = FileManager.default.homeDirectoryForCurrentUser.path + location.dropFirst(1)
        }
        self.root = URL(fileURLWithPath: location).standardizedFileURL.path
        self.repository = repository
        self.context = context
        self.tools = TarTools(
            gzip: context.executables["gzip"] ?? Self.lookUp("gzip"),
            tar: context.executables["tar"] ?? Self.lookUp("tar"),
            niceness: context.niceness
        )
    }

    /// Unencrypted archives in a local directory; no password, no provider environment, no bandwidth limits.
    public static let description = DriverDescription(
        name: "tar", capabilities: [.readDataSubset, .locks], password: .none, location: .localDirectory
    )

    public var capabilities: DriverCapabilities { Self.description.capabilities }

    // MARK: Paths

    var configurationPath: String { root + "/" + Self.configurationFileName }
    var snapshotsDirectory: String { root + "/snapshots" }
    var temporaryDirectory: String { root + "/tmp" }
    var locksDirectory: String { root + "/locks" }
    func archivePath(_ id: String) -> String { snapshotsDirectory + "/\(id).tar.gz" }
    func manifestPath(_ id: String) -> String { snapshotsDirectory + "/\(id).manifest.jsonl" }

    // MARK: Initialization

    struct RepositoryFile: Codable {
        var format: String
        var version: Int
        var created: String
    }

    public func isInitialized() async throws -> Bool {
        guard let data = FileManager.default.contents(atPath: configurationPath) else { return false }
        guard let file = try? JSONDecoder().decode(RepositoryFile.self, from: data), file.format == "hen-tar" else {
            throw failure(.failed, "Tar repository \(repository.name) has an unreadable \(Self.configurationFileName) at \(root).")
        }
        guard file.version <= TarManifest.formatVersion else {
            throw failure(.unsupported, "Tar repository \(repository.name) has format version \(file.version), newer than this Hen Backup understands (\(TarManifest.formatVersion)).")
        }
        return true
    }

    public func initialize(events: DriverEventHandler) async throws -> InitializeResult {
        if try await isInitialized() { return .alreadyInitialized }
        do {
            for directory in [root, snapshotsDirectory, temporaryDirectory, locksDirectory] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let file = RepositoryFile(format: "hen-tar", version: TarManifest.formatVersion, created: TarManifest.formatTime(Date()))
            let staging = temporaryDirectory + "/\(Self.randomHex(8)).repository.json"
            let writer = try BufferedFileWriter(creating: staging)
            try writer.write(try TarManifest.encode(file))
            try writer.finish()
            // link(2) fails if another process initialized meanwhile, where rename would overwrite.
            if link(staging, configurationPath) != 0 {
                let code = errno
                unlink(staging)
                if code == EEXIST { return .alreadyInitialized }
                throw POSIXFailure(operation: "link", path: configurationPath, errno: code)
            }
            unlink(staging)
        } catch let error as DriverError {
            throw error
        } catch {
            throw failure(.failed, "Tar repository \(repository.name) could not be created at \(root): \(error).")
        }
        events(.log(level: .info, message: "created tar repository at \(root)"))
        return .created
    }

    // MARK: Shared helpers

    func failure(_ code: DriverError.Code, _ message: String, detail: String? = nil) -> DriverError {
        DriverError(code, message, repository: repository.name, detail: detail)
    }

    func requireInitialized() async throws {
        guard try await isInitialized() else {
            throw failure(.repositoryMissing, "Tar repository \(repository.name) does not exist at \(root); initialize it first.")
        }
    }

    func cancelled(_ operation: String) -> DriverError {
        failure(.cancelled, "The \(operation) of tar repository \(repository.name) was cancelled.")
    }

    func toolFailure(_ error: TarTools.Failure, operation: String) -> DriverError {
        if error.cancelled { return cancelled(operation) }
        if error.missing {
            return failure(.binaryMissing, "The \(operation) of tar repository \(repository.name) needs \(error.tool), which is not installed.")
        }
        return failure(.failed, "The \(operation) of tar repository \(repository.name) failed: \(error.message).", detail: error.stderrTail)
    }

    /// This host's snapshot headers, oldest first.
    func snapshotHeaders() throws -> [TarManifest.Header] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: snapshotsDirectory)
        } catch {
            throw failure(.repositoryMissing, "Tar repository \(repository.name) has no snapshots directory at \(snapshotsDirectory).")
        }
        var headers: [(TarManifest.Header, Date)] = []
        for name in names where name.hasSuffix(".manifest.jsonl") {
            guard let header = try? readHeader(path: snapshotsDirectory + "/" + name),
                  header.host == context.hostname,
                  let date = TarManifest.parseTime(header.time)
            else { continue }
            headers.append((header, date))
        }
        return headers.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0.id < $1.0.id }.map(\.0)
    }

    func readHeader(path: String) throws -> TarManifest.Header? {
        guard let reader = try LineFileReader(path: path), let line = try reader.nextLine() else { return nil }
        return try TarManifest.decode(TarManifest.Header.self, from: line)
    }

    /// A snapshot of this host by full id or unique prefix; `.snapshotNotFound` otherwise.
    func resolveSnapshot(_ id: String) throws -> TarManifest.Header {
        let wanted = id.lowercased()
        if wanted.count == 64, wanted.allSatisfy(\.isHexDigit) {
            if let header = try? readHeader(path: manifestPath(wanted)), header.host == context.hostname {
                return header
            }
        } else if !wanted.isEmpty, wanted.allSatisfy(\.isHexDigit) {
            let matches = try snapshotHeaders().filter { $0.id.hasPrefix(wanted) }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw failure(.invalidRequest, "The snapshot id \(id) is ambiguous in tar repository \(repository.name); give more digits.")
            }
        }
        throw failure(.snapshotNotFound, "Tar repository \(repository.name) has no snapshot \(id) of host \(context.hostname).")
    }

    static func randomHex(_ byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<byteCount).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    /// tar and gzip must be executable files (their version output is not needed: any tar and gzip do).
    public func verifyPrograms() async throws -> [String] {
        for (name, path) in [("tar", tools.tar), ("gzip", tools.gzip)] where !FileManager.default.isExecutableFile(atPath: path) {
            let hint = context.executables[name] == nil ? "apt-get install \(name) (or set executables.\(name))" : "install it, or fix executables.\(name) (\(path))"
            throw DriverError(.binaryMissing, "\(name), which the tar driver runs, is not installed: \(hint).", repository: repository.name)
        }
        return ["tar (\(tools.tar))", "gzip (\(tools.gzip))"]
    }

    static func lookUp(_ tool: String) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/\(tool)"
    }
}
