import Foundation
import HenDrivers
import HenTestSupport
import Testing
@testable import HenEngine

/// A full `data_dir`: no job is queued or started that cannot be recorded, health says so, and everything
/// comes back without a restart once there is space again. On a real tmpfs (root only; skipped elsewhere).
@Suite struct EngineStoreFullTests {
    private static func fixture(on disk: SmallFileSystem) throws -> EngineFixture {
        try EngineFixture { configuration in configuration.dataDirectory = disk.path + "/data" }
    }

    @Test func aJobThatCannotBeRecordedIsRefusedAndHealthSaysSoUntilSpaceReturns() async throws {
        guard let disk = try SmallFileSystem.mount(megabytes: 4) else {
            print("skipped: mounting a tmpfs needs root")
            return
        }
        defer { disk.unmount() }
        let fixture = try Self.fixture(on: disk)
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        let engine = try fixture.makeEngine()
        let first = try await engine.backup("documents")
        #expect(try await engine.waitForCompletion(jobID: first.id).state == .succeeded)
        #expect(await engine.health(strict: false).isHealthy)

        disk.fill()
        let refused = await #expect(throws: EngineError.self) { try await engine.backup("documents") }
        #expect(refused?.code == .storeUnavailable)
        #expect(refused?.message.hasPrefix("The backup job for documents was not queued because it could not be recorded:") == true)
        let health = await engine.health(strict: false)
        #expect(health.isDown)
        #expect(health.problems.map(\.kind) == ["job_store"])
        #expect(fixture.backend.calls("backup").count == 1)
        #expect(try await engine.jobs(JobFilter()).count == 1)

        disk.free()
        #expect(await engine.health(strict: false).isHealthy)
        let again = try await engine.backup("documents")
        #expect(try await engine.waitForCompletion(jobID: again.id).state == .succeeded)
        #expect(fixture.backend.calls("backup").count == 2)
        let reopened = try JobStore(dataDirectory: fixture.configuration.dataDirectory)
        #expect(try await reopened.records(JobFilter()).map(\.state) == [.succeeded, .succeeded])
    }

    @Test func aJobThatEndsWhileTheDiskIsFullIsRecordedOnceSpaceReturns() async throws {
        guard let disk = try SmallFileSystem.mount(megabytes: 4) else {
            print("skipped: mounting a tmpfs needs root")
            return
        }
        defer { disk.unmount() }
        let fixture = try Self.fixture(on: disk)
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let job = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        // A second job waits in the queue: it must not start while its start cannot be recorded.
        fixture.backend.setInitialized("usb")
        let queued = try await engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .api))

        disk.fill()
        fixture.backend.release("local", "backup")
        let ended = try await engine.waitForCompletion(jobID: job.id)
        #expect(ended.state == .succeeded)
        let notStarted = try await engine.waitForCompletion(jobID: queued.id)
        #expect(notStarted.state == .failed)
        #expect(notStarted.error?.hasPrefix("The job was not started because it could not be recorded:") == true)
        #expect(fixture.backend.calls("check").isEmpty)
        // The store could not take the final records: it still says what it had.
        let reader = try JobStore(dataDirectory: fixture.configuration.dataDirectory)
        #expect(try await reader.record(id: job.id)?.state == .running)

        disk.free()
        #expect(await engine.health(strict: false).isHealthy)
        // Health asked the writer to write what it kept; a flush waits for it.
        _ = try await engine.jobs(JobFilter())
        #expect(try await reader.record(id: job.id)?.state == .succeeded)
        #expect(try await reader.record(id: queued.id)?.state == .failed)
    }
}
