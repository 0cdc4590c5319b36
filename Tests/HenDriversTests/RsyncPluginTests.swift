import Foundation
import HenDrivers
import HenTestSupport
import Testing

/// What the conformance suite does not reach in the rsync plugin: a backup stopped half-way.
struct RsyncPluginTests {
    /// A cancelled backup (a job cancelled or past max_duration: SIGINT to the plugin, forwarded to rsync,
    /// drained) ends `cancelled`, leaves no snapshot, no directory that looks like one and no rsync running;
    /// the next backup works.
    @Test func aCancelledBackupLeavesNoSnapshot() async throws {
        let scratch = try ConformanceScratch("rsync-cancel")
        let source = scratch.url.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        try Data((0..<8_000_000).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: source.appendingPathComponent("big.bin"))
        let repository = scratch.url.appendingPathComponent("repository")
        // 256 KiB/s: the 8 MB file takes half a minute, long enough to be stopped in the middle.
        let slow = try await PluginFixture.driver(
            "rsync", repository: RepositoryTarget(name: "slow", location: repository.path, limits: TransferLimits(uploadBytesPerSecond: 256 * 1024)), hostname: "host-a"
        )
        _ = try await slow.initialize()
        let task = Task { try await slow.backup(BackupRequest(paths: [source.path], tags: ["backup=x", "job=1"])) }
        let hostDirectory = repository.appendingPathComponent("snapshots/host-a").path
        func inProgress() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: hostDirectory)) ?? []).filter { $0.hasPrefix(".incomplete-") } }
        func rsyncs() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid in
                guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
                let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
                return line.contains("rsync") && line.contains(repository.path) ? line : nil
            }
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while inProgress().isEmpty || rsyncs().isEmpty {
            try #require(ContinuousClock.now < deadline, "the backup never started rsync")
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        switch await task.result {
        case .success: Issue.record("the cancelled backup succeeded")
        case .failure(let error): #expect((error as? DriverError)?.code == .cancelled, "\(error)")
        }
        #expect(try await slow.snapshots(SnapshotFilter()).collectAll().isEmpty)
        // rsync's own helper processes end a moment after it; then nothing of the backup is left.
        let settled = ContinuousClock.now + .seconds(60)
        while !(rsyncs().isEmpty && inProgress().isEmpty) && ContinuousClock.now < settled { try await Task.sleep(for: .milliseconds(100)) }
        #expect(rsyncs().isEmpty)
        #expect(inProgress().isEmpty)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: hostDirectory)) ?? []).isEmpty)

        let driver = try await PluginFixture.driver("rsync", repository: RepositoryTarget(name: "fast", location: repository.path), hostname: "host-a")
        let done = try await driver.backup(BackupRequest(paths: [source.path], tags: ["backup=x", "job=2"]))
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().map(\.id) == [done.snapshotID])
    }
}
