import Foundation
import HenDrivers
import HenEngineTestSupport
import HenProcess
import HenTestSupport
import Logging
import Synchronization
@testable import HenEngine

/// Counts the driver operations an engine asks for.
final class DriverCallCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ operation: String) { counts.withLock { $0[operation, default: 0] += 1 } }
    func count(_ operation: String) -> Int { counts.withLock { $0[operation] ?? 0 } }
}

/// The real driver, with every browsing call counted.
struct CountingDriver: BackupDriver {
    let base: any BackupDriver
    let counter: DriverCallCounter

    var capabilities: DriverCapabilities { base.capabilities }
    func isInitialized() async throws -> Bool { try await base.isInitialized() }
    func initialize(events: DriverEventHandler) async throws -> InitializeResult { try await base.initialize(events: events) }
    func backup(_ request: BackupRequest, events: DriverEventHandler) async throws -> BackupSummary {
        counter.add("backup")
        return try await base.backup(request, events: events)
    }
    func snapshots(_ filter: SnapshotFilter) -> AsyncThrowingStream<Snapshot, any Error> {
        counter.add("snapshots")
        return base.snapshots(filter)
    }
    func list(snapshot: String, path: String?) -> AsyncThrowingStream<Node, any Error> {
        counter.add("list")
        return base.list(snapshot: snapshot, path: path)
    }
    func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary {
        counter.add("restore")
        return try await base.restore(request, events: events)
    }
    func dump(snapshot: String, path: String) -> AsyncThrowingStream<[UInt8], any Error> {
        counter.add("dump")
        return base.dump(snapshot: snapshot, path: path)
    }
    func forget(_ request: ForgetRequest, events: DriverEventHandler) async throws -> ForgetSummary {
        counter.add("forget")
        return try await base.forget(request, events: events)
    }
    func check(_ request: CheckRequest, events: DriverEventHandler) async throws -> CheckSummary { try await base.check(request, events: events) }
    func stats() async throws -> RepositoryStats { try await base.stats() }
    func unlock(events: DriverEventHandler) async throws { try await base.unlock(events: events) }
    func diff(from older: String, to newer: String) -> AsyncThrowingStream<SnapshotDiffItem, any Error> {
        counter.add("diff")
        return base.diff(from: older, to: newer)
    }
}

/// A temporary directory with a source tree, a restic repository with snapshots of it (made with restic
/// itself, `--host` chosen per snapshot) and a configuration for an engine on it. `close()` removes it all.
///
/// The source: `a.txt`, `dir/b.bin` (300 KB), `dir/sub/c.txt`, `link` → `a.txt`, `many/f000`…`many/f249`.
struct ResticSnapshotFixture {
    static let password = "snapshot fixture password"
    let root: String
    let counter = DriverCallCounter()
    var configuration: Configuration

    var source: String { root + "/src" }
    var repository: String { root + "/repo" }
    var restores: String { root + "/restores" }

    init(hostname: String = "testhost") async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-snap-\(UUID().uuidString.prefix(8))").path
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/src/dir/sub", withIntermediateDirectories: true)
        try files.createDirectory(atPath: root + "/src/many", withIntermediateDirectories: true)
        try files.createDirectory(atPath: root + "/restores", withIntermediateDirectories: true)
        try Data("hello snapshot\n".utf8).write(to: URL(fileURLWithPath: root + "/src/a.txt"))
        try Self.bigFile.write(to: URL(fileURLWithPath: root + "/src/dir/b.bin"))
        try Data("deep\n".utf8).write(to: URL(fileURLWithPath: root + "/src/dir/sub/c.txt"))
        try files.createSymbolicLink(atPath: root + "/src/link", withDestinationPath: "a.txt")
        // Created out of order: the index must sort them.
        for index in (0..<250).reversed() {
            try Data("file \(index)\n".utf8).write(to: URL(fileURLWithPath: root + "/src/many/" + String(format: "f%03d", index)))
        }
        configuration = .fixture(
            root: root,
            hostname: hostname,
            executables: ["restic": Restic.path],
            repositories: ["local": Configuration.Repository(name: "local", location: root + "/repo", password: Secret(Self.password))],
            backups: [Configuration.Backup(name: "documents", paths: [root + "/src"], repositories: ["local"])],
            allowedRestoreTargets: [root + "/restores"]
        )
        try await restic(["init"])
    }

    /// 300 KB that differ from byte to byte.
    static let bigFile: Data = {
        var state: UInt32 = 2_463_534_242
        return Data((0..<300_000).map { _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        })
    }()

    /// Makes a snapshot of `paths` (default: the whole source) as `host` with restic itself.
    func snapshot(host: String = "testhost", paths: [String]? = nil, tags: [String] = ["backup=documents"]) async throws {
        var arguments = ["backup", "--host", host]
        for tag in tags { arguments += ["--tag", tag] }
        try await restic(arguments + (paths ?? [source]))
    }

    /// Runs restic on the fixture's repository; throws with its stderr when it fails.
    @discardableResult
    func restic(_ arguments: [String]) async throws -> [String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME", "TMPDIR"])
        environment["RESTIC_REPOSITORY"] = repository
        environment["RESTIC_PASSWORD"] = Self.password
        environment["RESTIC_CACHE_DIR"] = root + "/restic-cache"
        let output = Mutex<[String]>([])
        let request = ChildProcessRequest(executable: Restic.path, arguments: arguments, environment: environment)
        let result = try await ChildProcess.run(request) { line in
            if case .stdout(let text) = line { output.withLock { $0.append(text) } }
        }
        guard result.succeeded else { throw FixtureFailure(message: "restic \(arguments.first ?? "") failed: \(result.stderrTail.joined(separator: "\n"))") }
        return output.withLock { $0 }
    }

    /// A registry whose restic driver counts its calls in ``counter``.
    var registry: DriverRegistry {
        let counter = self.counter
        var registry = DriverRegistry()
        registry.register(ResticDriver.description) { target, context in CountingDriver(base: try ResticDriver(repository: target, context: context), counter: counter) }
        return registry
    }

    func makeEngine(_ configuration: Configuration? = nil) throws -> Engine {
        let configuration = configuration ?? self.configuration
        return Engine(configuration: configuration, registry: registry, store: try JobStore(dataDirectory: configuration.dataDirectory), logger: Logger(label: "hen.test"))
    }

    /// Every file below the repository with its size and modification time, to prove nothing changed.
    func repositoryListing() throws -> [String] {
        let files = FileManager.default
        var lines: [String] = []
        for case let relative as String in files.enumerator(atPath: repository)! {
            let attributes = try files.attributesOfItem(atPath: repository + "/" + relative)
            let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
            let date = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            lines.append("\(relative) \(size) \(date)")
        }
        return lines.sorted()
    }

    func close() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Collects a byte stream (test data only: small).
func collect(_ bytes: AsyncThrowingStream<[UInt8], any Error>) async throws -> [UInt8] {
    var all: [UInt8] = []
    for try await chunk in bytes { all += chunk }
    return all
}

/// The member names of a tar file, read by /usr/bin/tar.
func tarMembers(_ path: String) async throws -> [String] {
    var members: [String] = []
    for try await line in ChildProcess.lines(ChildProcessRequest(executable: "/usr/bin/tar", arguments: ["-tf", path])) {
        members.append(line)
    }
    return members
}
