import Foundation
import HenDrivers
import HenProcess
import HenTestSupport
import Testing
@testable import HenEngine

/// Start-up after a `kill -9`: a backup whose snapshot restic had written is recorded as succeeded, and
/// driver processes the dead daemon left behind (as the driver recognises them) are stopped before
/// anything is unlocked.
@Suite struct EngineInterruptedRecoveryTests {
    /// A backup job as a dead daemon left it in the store: `running`, its backup step running.
    private static func running(_ id: String, at date: Date) -> JobRecord {
        JobRecord(
            id: id, request: .backup(backup: "documents", repositories: nil), trigger: .schedule("every 1h"), priority: .normal,
            state: .running, repositories: ["local"], queuedAt: date, startedAt: date,
            steps: [JobStep(id: "backup:local", name: "backup to local", repository: "local", state: .running, startedAt: date)]
        )
    }

    @Test func anInterruptedBackupWhoseSnapshotExistsIsRecordedSucceededWithANote() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        let store = try JobStore(dataDirectory: fixture.configuration.dataDirectory)
        let date = Date()
        let written = Self.running(JobID.make(at: date), at: date)
        let cutShort = Self.running(JobID.make(at: date.addingTimeInterval(1)), at: date.addingTimeInterval(1))
        try await store.save(written)
        try await store.save(cutShort)
        // restic wrote the first job's snapshot before the daemon died; the second never got that far.
        try await fixture.snapshot(tags: ["backup=documents", "job=\(written.id)"])

        let engine = try fixture.makeEngine()
        let recovery = try await engine.recover()
        #expect(recovery.settled == [written.id])
        #expect(Set(recovery.interrupted) == [written.id, cutShort.id])
        let settled = try #require(try await engine.job(id: written.id))
        #expect(settled.state == .succeeded)
        #expect(settled.error == nil)
        #expect(settled.results.count == 1 && settled.results[0].snapshotID?.count == 64)
        #expect(settled.steps.map(\.state) == [.succeeded])
        #expect(settled.warnings.contains { $0.hasPrefix("The daemon stopped while this job ran, after its snapshot (") && $0.hasSuffix("recorded as succeeded at the next start.") })
        #expect(try await engine.job(id: cutShort.id)?.state == .interrupted)
        // The repository is unlocked all the same: the daemon may have died before restic removed its lock.
        #expect(recovery.unlocks.count == 1)
        #expect(try await engine.waitForCompletion(jobID: recovery.unlocks[0]).state == .succeeded)
    }

    @Test func leftoverProcessesOfThisDataDirectoryAreStoppedBeforeTheUnlock() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        let cache = fixture.configuration.dataDirectory + "/cache"
        // Another data directory's process, and ours, both orphaned (setsid -f) as a killed daemon's would be.
        // `setsid -f` forks: the sleeper's parent is gone at once; its output goes nowhere, so runTool returns.
        let orphan = #"setsid -f /usr/bin/python3 -c 'import time; time.sleep(600)' --cache-dir "$1" >/dev/null 2>&1 </dev/null"#
        try await offPool { _ = try runTool("/bin/sh", ["-c", orphan, "sh", cache]) }
        try await offPool { _ = try runTool("/bin/sh", ["-c", orphan, "sh", cache + "-other"]) }
        let ours = LeftoverProcesses.find(argument: "--cache-dir", value: cache)
        let theirs = LeftoverProcesses.find(argument: "--cache-dir", value: cache + "-other")
        defer { for entry in theirs { kill(entry.pid, SIGKILL) } }
        #expect(ours.count == 1 && theirs.count == 1)

        let engine = try fixture.makeEngine()
        let recovery = try await engine.recover()
        #expect(recovery.leftoverProcesses == 1)
        #expect(LeftoverProcesses.find(argument: "--cache-dir", value: cache).isEmpty)
        #expect(LeftoverProcesses.find(argument: "--cache-dir", value: cache + "-other").map(\.pid) == theirs.map(\.pid))
    }

    /// restic's processes are recognised by the cache directory it is given, and its zombies by the file
    /// name of the configured executable. tar's lock names the daemon itself, and its tar and gzip hold none.
    @Test func eachDriverSaysHowToRecogniseItsLeftoverProcesses() throws {
        let context = DriverContext(hostname: "host-a", executables: ["restic": "/opt/restic/bin/restic-0.17"], cacheDirectory: "/var/lib/hen/cache")
        let restic = try ResticDriver(repository: RepositoryTarget(name: "r", location: "/tmp/r"), context: context)
        #expect(restic.leftoverProcesses == LeftoverProcessPattern(argument: "--cache-dir", value: "/var/lib/hen/cache", program: "restic-0.17"))
        let tar = try TarDriver(repository: RepositoryTarget(name: "t", location: "/tmp/t"), context: context)
        #expect(tar.leftoverProcesses == nil)
    }
}
