import Foundation
@testable import HenDrivers
import HenProcess
import Testing

/// The driver against real remote backends served on 127.0.0.1: S3 (moto_server) and restic's REST
/// protocol (rclone serve restic).
@Suite("ResticDriver remote backends", .serialized)
struct ResticBackendTests {
    /// init, backup, snapshots, restore and an unreachable/missing repository on one remote location.
    private func exercise(_ driver: ResticDriver, sandbox: ResticSandbox) async throws {
        #expect(try await driver.isInitialized() == false)
        #expect(try await driver.initialize() == .created)
        #expect(try await driver.initialize() == .alreadyInitialized)
        let source = try sandbox.makeSource()
        let summary = try await driver.backup(BackupRequest(paths: [source], tags: [SnapshotTag.backup("remote")]))
        var ids: [String] = []
        for try await snapshot in driver.snapshots(SnapshotFilter(tags: [SnapshotTag.backup("remote")])) { ids.append(snapshot.id) }
        #expect(ids == [summary.snapshotID])
        let target = sandbox.path("restored")
        _ = try await driver.restore(RestoreRequest(snapshot: summary.snapshotID, target: target))
        #expect(FileManager.default.contents(atPath: target + source + "/docs/deep/blob.bin") == Data(repeating: 7, count: 70_000))
    }

    @Test func s3ThroughMoto() async throws {
        guard LocalServer.isInstalled("moto_server") else {
            Issue.record("moto_server is not installed; `make test` installs it (pip install 'moto[server]').")
            return
        }
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let port = try LocalServer.freePort()
        let credentials = ["AWS_ACCESS_KEY_ID": "hen-test-key", "AWS_SECRET_ACCESS_KEY": "hen-test-secret", "AWS_DEFAULT_REGION": "us-east-1"]
        try await LocalServer.with("moto_server", ["-H", "127.0.0.1", "-p", String(port)], port: port) {
            let driver = try sandbox.driver(name: "s3", location: "s3:http://127.0.0.1:\(port)/hen-bucket", environment: credentials)
            try await exercise(driver, sandbox: sandbox)
            let missing = try sandbox.driver(name: "s3", location: "s3:http://127.0.0.1:\(port)/no-such-bucket", environment: credentials)
            #expect(try await missing.isInitialized() == false)
        }
    }

    @Test func restThroughRclone() async throws {
        guard LocalServer.isInstalled("rclone") else {
            Issue.record("rclone is not installed; `make test` installs it (apt-get install rclone).")
            return
        }
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let port = try LocalServer.freePort()
        let served = sandbox.path("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try await LocalServer.with(
            "rclone",
            ["serve", "restic", "--addr", "127.0.0.1:\(port)", served],
            port: port,
            environment: ["RCLONE_CONFIG": sandbox.path("rclone.conf")]
        ) {
            let driver = try sandbox.driver(name: "rest", location: "rest:http://127.0.0.1:\(port)/")
            try await exercise(driver, sandbox: sandbox)
        }
        // The server is gone now: the same location is unreachable.
        let gone = try sandbox.driver(name: "rest", location: "rest:http://127.0.0.1:\(port)/")
        let error = await #expect(throws: DriverError.self) { try await gone.isInitialized() }
        #expect(error?.code == .backendUnreachable)
    }
}
