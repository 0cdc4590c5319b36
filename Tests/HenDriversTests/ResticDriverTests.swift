import Foundation
@testable import HenDrivers
import HenProcess
import Testing

/// ResticDriver against the real restic binary and repositories in temporary directories.
@Suite("ResticDriver", .serialized)
struct ResticDriverTests {
    @Test func initializeIsIdempotent() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try sandbox.driver()
        #expect(try await driver.isInitialized() == false)
        #expect(try await driver.initialize() == .created)
        #expect(try await driver.isInitialized() == true)
        #expect(try await driver.initialize() == .alreadyInitialized)
        #expect(driver.capabilities == [.encrypted, .concurrentBackups, .bandwidthLimits, .deduplication, .readDataSubset, .locks, .diff])
    }

    @Test func backupReportsProgressAndSummary() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let source = try sandbox.makeSource()
        let recorder = DriverEventRecorder()
        let summary = try await driver.backup(
            BackupRequest(paths: [source], excludes: ["*.sh"], tags: [SnapshotTag.backup("docs"), SnapshotTag.job("j1")]),
            events: recorder.handler
        )
        #expect(summary.snapshotID.count == 64)
        #expect(summary.filesNew == 3) // hello.txt, blob.bin, empty (run.sh excluded; the link is not a file)
        #expect(summary.totalBytesProcessed == 13 + 70_000)
        #expect(summary.dataAdded > 0)
        #expect(summary.warnings.isEmpty)
        #expect(!recorder.progress.isEmpty)
        #expect(recorder.progress.contains { $0.totalFiles != nil || $0.fraction != nil })

        var snapshots: [Snapshot] = []
        for try await snapshot in driver.snapshots(SnapshotFilter()) { snapshots.append(snapshot) }
        #expect(snapshots.map(\.id) == [summary.snapshotID])
        #expect(snapshots.first?.host == "test-host")
        #expect(snapshots.first?.backup == "docs")
        #expect(snapshots.first?.jobID == "j1")
        #expect(snapshots.first?.paths == [source])
        #expect(abs((snapshots.first?.time.timeIntervalSinceNow ?? 999)) < 120)

        // A second backup of unchanged data adds (almost) nothing and names its parent.
        let second = try await driver.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("docs")]))
        #expect(second.filesUnmodified == 3)
        #expect(second.filesNew == 1) // run.sh, excluded the first time
        var filtered: [Snapshot] = []
        for try await snapshot in driver.snapshots(SnapshotFilter(tags: [SnapshotTag.backup("docs"), SnapshotTag.job("j1")])) {
            filtered.append(snapshot)
        }
        #expect(filtered.map(\.id) == [summary.snapshotID])
    }

    @Test func unreadableFileIsAWarningNotAFailure() async throws {
        // Tests run as root, so permissions cannot make a file unreadable. /proc/self/mem can be opened but
        // reading it at offset 0 fails with EIO (nothing is mapped there): restic saves the snapshot without
        // it and exits with code 3.
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try await sandbox.initializedDriver()
        let source = try sandbox.makeSource()
        let recorder = DriverEventRecorder()
        let summary = try await driver.backup(BackupRequest(paths: [source, "/proc/self/mem"]), events: recorder.handler)
        #expect(summary.snapshotID.count == 64)
        #expect(summary.warnings.count == 1)
        #expect(summary.warnings.first?.contains("/proc/self/mem") == true)
        #expect(summary.warnings.first?.contains("input/output error") == true)
        #expect(recorder.warnings == summary.warnings)
    }

    @Test func wrongPasswordIsRecognised() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        _ = try await sandbox.driver().initialize()
        let wrong = try sandbox.driver(name: "aws", password: "not the password")
        let error = await #expect(throws: DriverError.self) { try await wrong.isInitialized() }
        #expect(error?.code == .wrongPassword)
        #expect(error?.message == "Repository \"aws\": wrong password (check the password).")
        #expect(error?.repository == "aws")

        let passwordFile = sandbox.path("password")
        try Data("also wrong\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
        let fromFile = try sandbox.driver(name: "aws", password: nil, passwordFile: passwordFile)
        let fileError = await #expect(throws: DriverError.self) {
            for try await _ in fromFile.snapshots(SnapshotFilter()) {}
        }
        #expect(fileError?.code == .wrongPassword)
        #expect(fileError?.message == "Repository \"aws\": wrong password (check password_file).")
    }

    @Test func missingRepositoryAndSourceAreRecognised() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try sandbox.driver()
        let source = try sandbox.makeSource()
        let error = await #expect(throws: DriverError.self) { try await driver.backup(BackupRequest(paths: [source])) }
        #expect(error?.code == .repositoryMissing)
        #expect(error?.message.contains(sandbox.path("repo")) == true)
        #expect(error?.detail?.contains("Is there a repository") == true)

        _ = try await driver.initialize()
        let missing = await #expect(throws: DriverError.self) {
            try await driver.backup(BackupRequest(paths: [source, sandbox.path("nope")]))
        }
        #expect(missing?.code == .sourceMissing)
        #expect(missing?.message.contains(sandbox.path("nope")) == true)
    }

    @Test func unreachableBackendIsRecognised() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try sandbox.driver(name: "remote", location: "rest:http://127.0.0.1:1/")
        let error = await #expect(throws: DriverError.self) { try await driver.isInitialized() }
        #expect(error?.code == .backendUnreachable)
        #expect(error?.message.hasPrefix("Repository \"remote\": the storage at rest:http://127.0.0.1:1/ cannot be reached") == true)
    }

    @Test func missingBinaryIsRecognised() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try ResticDriver(
            repository: RepositoryTarget(name: "local", location: sandbox.path("repo"), password: Secret("x")),
            context: DriverContext(hostname: "h", executables: ["restic": sandbox.path("no-restic")])
        )
        let error = await #expect(throws: DriverError.self) { try await driver.isInitialized() }
        #expect(error?.code == .binaryMissing)
        #expect(error?.message.hasPrefix("restic is not installed") == true)
    }

    @Test func secretsStayOutOfErrorsAndArguments() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try sandbox.driver(environment: ["AWS_SECRET_ACCESS_KEY": "very-secret-key"])
        let request = driver.processRequest(["snapshots", "--json"], version: .floor)
        #expect(!request.arguments.joined(separator: " ").contains(ResticSandbox.password))
        #expect(request.environment["RESTIC_PASSWORD"] == ResticSandbox.password)
        #expect(request.environment["AWS_SECRET_ACCESS_KEY"] == "very-secret-key")
        #expect(Set(request.secrets) == [ResticSandbox.password, "very-secret-key"])
        #expect(request.environment["RESTIC_REPOSITORY"] == sandbox.path("repo"))
        // Nothing else of the daemon's environment leaks through.
        let allowed = Set(ResticDriver.passedThroughEnvironment + ["RESTIC_REPOSITORY", "RESTIC_PASSWORD", "RESTIC_PROGRESS_FPS", "AWS_SECRET_ACCESS_KEY"])
        #expect(Set(request.environment.keys).isSubset(of: allowed))
    }

    @Test func limitsBecomeKibibytesRoundedUp() throws {
        #expect(ResticDriver.kibibytesPerSecond(1) == 1)
        #expect(ResticDriver.kibibytesPerSecond(1024) == 1)
        #expect(ResticDriver.kibibytesPerSecond(1025) == 2)
        #expect(ResticDriver.kibibytesPerSecond(10 * 1024 * 1024) == 10240)
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let driver = try sandbox.driver(limits: TransferLimits(uploadBytesPerSecond: 512 * 1024, downloadBytesPerSecond: 1000))
        let request = driver.processRequest(["backup", "--json"], version: .floor, limits: driver.repository.limits.combined(with: TransferLimits(uploadBytesPerSecond: 100_000)))
        #expect(request.arguments == ["backup", "--cache-dir", sandbox.path("cache"), "--limit-upload", "98", "--limit-download", "1", "--json"])
        let newer = driver.processRequest(["check"], version: ResticVersion(major: 0, minor: 16, patch: 4))
        #expect(newer.arguments.contains("--retry-lock"))
    }
}
