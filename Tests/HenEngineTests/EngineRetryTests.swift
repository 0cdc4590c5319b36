import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// `retry:`: a step that failed for a passing reason is tried again within the same job, each try a step
/// of its own; a permanent failure fails at once.
@Suite struct EngineRetryTests {
    private static let unreachable = DriverError(.backendUnreachable, "Repository \"local\": the storage at rest:http://127.0.0.1:1/ cannot be reached (connection refused).", repository: "local")

    private static func fixture(_ retry: RetryPolicy, onBackup: Bool = false) throws -> EngineFixture {
        try EngineFixture { configuration in
            if onBackup { configuration.backups[0].retry = retry } else { configuration.retry = retry }
        }
    }

    /// Waits until the job's runner sleeps before its next try, then moves the clock past the wait.
    private static func passTheWait(_ fixture: EngineFixture, _ wait: Duration) async {
        await fixture.clock.waitForSleepers(1)
        fixture.clock.advance(by: wait)
    }

    @Test func anUnreachableStorageIsTriedAgainUntilItAnswers() async throws {
        let fixture = try Self.fixture(RetryPolicy(attempts: 3, backoff: .seconds(30), maxBackoff: .seconds(45)), onBackup: true)
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.fail("local", "backup", Self.unreachable)
        let engine = try fixture.makeEngine()
        let job = try await engine.backup("documents")
        await Self.passTheWait(fixture, .seconds(30))
        await fixture.backend.waitForCall("local", "backup", count: 2)
        fixture.backend.stopFailing("local", "backup")
        await Self.passTheWait(fixture, .seconds(45))
        let done = try await engine.waitForCompletion(jobID: job.id)
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        #expect(done.steps.map(\.id) == ["backup:local", "backup:local#2", "backup:local#3"])
        #expect(done.steps.map(\.state) == [.failed, .failed, .succeeded])
        #expect(done.steps[2].name == "backup to local (try 3 of 3)")
        #expect(done.log.contains { $0.message == "Try 1 of 3 on local failed (storage unreachable); trying again in 30s." })
        #expect(done.log.contains { $0.message == "Try 2 of 3 on local failed (storage unreachable); trying again in 45s." })
        #expect(fixture.backend.calls("backup").count == 3)
    }

    @Test func theJobFailsWithOneSentenceOnceTheTriesAreSpent() async throws {
        let fixture = try Self.fixture(RetryPolicy(attempts: 2, backoff: .seconds(5), maxBackoff: .seconds(60)))
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.fail("local", "backup", Self.unreachable)
        let engine = try fixture.makeEngine()
        let job = try await engine.backup("documents")
        await Self.passTheWait(fixture, .seconds(5))
        let done = try await engine.waitForCompletion(jobID: job.id)
        #expect(done.state == .failed)
        #expect(done.error == "Repository \"local\": the storage at rest:http://127.0.0.1:1/ cannot be reached (connection refused) (tried 2 times).")
        #expect(done.steps.map(\.id) == ["backup:local", "backup:local#2"])
    }

    @Test func aWrongPasswordIsNeverTriedAgain() async throws {
        let fixture = try Self.fixture(RetryPolicy(attempts: 5, backoff: .seconds(5), maxBackoff: .seconds(60)))
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.fail("local", "backup", DriverError(.wrongPassword, "Repository \"local\": wrong password (check the password).", repository: "local"))
        let engine = try fixture.makeEngine()
        let job = try await engine.backup("documents")
        let done = try await engine.waitForCompletion(jobID: job.id)
        #expect(done.state == .failed)
        #expect(done.error == "Repository \"local\": wrong password (check the password).")
        #expect(done.steps.map(\.id) == ["backup:local"])
        #expect(fixture.backend.calls("backup").count == 1)
    }

    @Test func aStopDuringTheWaitEndsTheJobCancelled() async throws {
        let fixture = try Self.fixture(RetryPolicy(attempts: 3, backoff: .seconds(600), maxBackoff: .seconds(600)))
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.fail("local", "backup", Self.unreachable)
        let engine = try fixture.makeEngine()
        let job = try await engine.backup("documents")
        await fixture.clock.waitForSleepers(1)
        let cancelled = try await engine.cancel(jobID: job.id)
        #expect(cancelled.state == .cancelled)
        #expect(fixture.backend.calls("backup").count == 1)
    }

    @Test func onlyTransientErrorsAreRetried() {
        #expect(Self.unreachable.isTransient)
        let otherHost = DriverError(.repositoryLocked, "locked", repository: "r", detail: "Fatal: unable to create lock in backend: repository is already locked exclusively by PID 4242 on some-other-host by root (UID 0, GID 0)\nlock was created at 2026-01-01")
        #expect(otherHost.isTransient)
        let thisHost = DriverError(.repositoryLocked, "locked", repository: "r", detail: "repository is already locked by PID 4242 on \(DriverError.machineHostname) by root (UID 0, GID 0)")
        #expect(!thisHost.isTransient)
        #expect(!DriverError(.repositoryLocked, "locked", repository: "r").isTransient)
        for code in [DriverError.Code.wrongPassword, .repositoryMissing, .invalidRequest, .binaryMissing, .failed, .checkFailed] {
            #expect(!DriverError(code, "x").isTransient)
        }
        let policy = RetryPolicy(attempts: 6, backoff: .seconds(10), maxBackoff: .seconds(60))
        #expect((1...5).map(policy.wait(after:)) == [.seconds(10), .seconds(20), .seconds(40), .seconds(60), .seconds(60)])
    }
}
