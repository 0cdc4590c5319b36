import Foundation
@testable import HenDrivers
import HenProcess
import HenTestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory with room for repositories, sources, restores and restic's cache; removed by
/// `remove()` (call it in a `defer`).
struct ResticSandbox {
    static let password = "correct horse battery"
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-restic-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    func driver(
        name: String = "local",
        location: String? = nil,
        password: String? = ResticSandbox.password,
        passwordFile: String? = nil,
        passwordCommand: String? = nil,
        host: String = "test-host",
        environment: [String: String] = [:],
        limits: TransferLimits = TransferLimits()
    ) throws -> ResticDriver {
        try ResticDriver(
            repository: RepositoryTarget(
                name: name,
                location: location ?? path("repo"),
                password: password.map(Secret.init),
                passwordFile: passwordFile,
                passwordCommand: passwordCommand,
                environment: environment.mapValues(Secret.init),
                limits: limits
            ),
            context: DriverContext(hostname: host, executables: ["restic": Restic.path], cacheDirectory: path("cache"))
        )
    }

    /// A driver on a repository it has just created.
    func initializedDriver(host: String = "test-host", limits: TransferLimits = TransferLimits()) async throws -> ResticDriver {
        let driver = try driver(host: host, limits: limits)
        _ = try await driver.initialize()
        return driver
    }

    /// The environment that points restic at the sandbox's repository (for restic run directly).
    var resticEnvironment: [String: String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME", "TMPDIR"])
        environment["RESTIC_REPOSITORY"] = path("repo")
        environment["RESTIC_PASSWORD"] = Self.password
        environment["RESTIC_CACHE_DIR"] = path("cache")
        return environment
    }

    /// A small tree: a file, an executable, a nested file, a symlink, an empty file.
    @discardableResult
    func makeSource(_ name: String = "source") throws -> String {
        let base = path(name)
        let manager = FileManager.default
        try manager.createDirectory(atPath: base + "/docs/deep", withIntermediateDirectories: true)
        try Data("hello restic\n".utf8).write(to: URL(fileURLWithPath: base + "/hello.txt"))
        try Data("#!/bin/sh\necho hi\n".utf8).write(to: URL(fileURLWithPath: base + "/run.sh"))
        try manager.setAttributes([.posixPermissions: 0o750], ofItemAtPath: base + "/run.sh")
        try Data(repeating: 7, count: 70_000).write(to: URL(fileURLWithPath: base + "/docs/deep/blob.bin"))
        try Data().write(to: URL(fileURLWithPath: base + "/docs/empty"))
        try manager.createSymbolicLink(atPath: base + "/link", withDestinationPath: "hello.txt")
        return base
    }

    /// Runs restic directly on the sandbox's repository (for what the driver deliberately cannot do:
    /// list locks); returns its result and stdout.
    func restic(_ arguments: [String]) async throws -> (ChildProcessResult, [String]) {
        let lines = Mutex<[String]>([])
        let result = try await ChildProcess.run(ChildProcessRequest(executable: Restic.path, arguments: arguments, environment: resticEnvironment)) { line in
            if case .stdout(let text) = line { lines.withLock { $0.append(text) } }
        }
        return (result, lines.withLock { $0 })
    }

    /// Writes `megabytes` of random data into a new directory.
    func makeRandomTree(_ name: String, megabytes: Int) async throws -> String {
        let base = path(name)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let result = try await ChildProcess.run(ChildProcessRequest(
            executable: "sh",
            arguments: ["-c", "i=0; while [ $i -lt \(megabytes / 4) ]; do head -c 4194304 /dev/urandom > \"$0/part$i\"; i=$((i+1)); done", base],
            environment: ["PATH": "/usr/bin:/bin"]
        )) { _ in }
        guard result.succeeded else { throw SandboxError("could not write random data: \(result.stderrTail)") }
        return base
    }
}

struct SandboxError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Records a driver's events; lets a test wait for the first one that matches.
final class DriverEventRecorder: Sendable {
    private struct State {
        var events: [DriverEvent] = []
        var waiters: [(@Sendable (DriverEvent) -> Bool, CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    var handler: DriverEventHandler { { event in self.record(event) } }

    func record(_ event: DriverEvent) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.events.append(event)
            let ready = s.waiters.filter { $0.0(event) }.map(\.1)
            s.waiters.removeAll { $0.0(event) }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    var events: [DriverEvent] { state.withLock { $0.events } }
    var progress: [HenDrivers.Progress] { events.compactMap { if case .progress(let p) = $0 { p } else { nil } } }
    var warnings: [String] { events.compactMap { if case .warning(let w) = $0 { w } else { nil } } }
    var logs: [String] { events.compactMap { if case .log(_, let m) = $0 { m } else { nil } } }

    func waitFor(_ predicate: @escaping @Sendable (DriverEvent) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let seen: Bool = state.withLock { s in
                if s.events.contains(where: predicate) { return true }
                s.waiters.append((predicate, continuation))
                return false
            }
            if seen { continuation.resume() }
        }
    }
}

/// Local servers the backend tests talk to, on ephemeral ports of 127.0.0.1.
enum LocalServer {
    /// A port nobody listens on right now (bound, read, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SandboxError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SandboxError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Whether `name` can be found in PATH.
    static func isInstalled(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
    }

    /// Runs `executable` (a server listening on `port`) around `body`, and stops it afterwards (SIGINT,
    /// SIGKILL after two seconds) whether `body` succeeded or not.
    static func with<T: Sendable>(
        _ executable: String,
        _ arguments: [String],
        port: Int,
        environment: [String: String] = [:],
        body: () async throws -> T
    ) async throws -> T {
        var childEnvironment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME", "TMPDIR", "LANG"])
        childEnvironment.merge(environment) { $1 }
        let request = ChildProcessRequest(executable: executable, arguments: arguments, environment: childEnvironment, terminationGrace: .seconds(2))
        let output = Mutex<[String]>([])
        let server = Task { try await ChildProcess.run(request) { line in output.withLock { $0.append("\(line)") } } }
        // A bound, not a timing check: moto imports boto and flask, which took over 30 s on a loaded 2-core run.
        let deadline = ContinuousClock.now + .seconds(120)
        while !isListening(port) {
            guard ContinuousClock.now < deadline else {
                server.cancel()
                _ = await server.result
                throw SandboxError("\(executable) did not listen on port \(port) within 120 s: \(output.withLock { $0.suffix(5) })")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            let value = try await body()
            server.cancel()
            _ = await server.result
            return value
        } catch {
            server.cancel()
            _ = await server.result
            throw error
        }
    }
}

enum ResticProcesses {
    /// Waits (polling, at most 20 s) until no restic runs on this repository; returns whether none does.
    static func waitUntilNone(repository: String) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while !running(repository: repository).isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return running(repository: repository).isEmpty
    }

    /// Live processes whose environment names this repository (restic children of the driver).
    static func running(repository: String) -> [Int32] {
        let needle = Array("RESTIC_REPOSITORY=\(repository)\0".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard ProcessTable.isRunning(pid),
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            let bytes = [UInt8](environ)
            guard bytes.count >= needle.count else { return false }
            return (0...(bytes.count - needle.count)).contains { index in
                (index == 0 || bytes[index - 1] == 0) && bytes[index..<index + needle.count].elementsEqual(needle)
            }
        }
    }
}
