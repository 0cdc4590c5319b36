import Foundation
import HenDrivers
import Testing
@testable import HenEngine

@Suite struct EngineStopTests {
    @Test func aBackupPastItsMaxDurationIsStoppedAndRecordedTimedOut() async throws {
        let fixture = try EngineFixture(backups: [
            Configuration.Backup(name: "documents", paths: ["/data"], repositories: ["local"], maxDuration: .seconds(7_200)),
        ])
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let job = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        await fixture.clock.waitForSleepers(1)
        fixture.clock.advance(by: .seconds(7_199))
        #expect(try await engine.job(id: job.id)?.state == .running)
        fixture.clock.advance(by: .seconds(1))
        let record = try await engine.waitForCompletion(jobID: job.id)
        #expect(record.state == .timedOut)
        #expect(record.error == "Backup documents ran longer than its max_duration of 2h and was stopped.")
        #expect(record.steps.last?.state == .cancelled)
        #expect(fixture.backend.stoppedCleanly.map(\.operation) == ["backup"])
        #expect(try await engine.store.record(id: job.id)?.state == .timedOut)
    }

    @Test func aCheckPastItsMaxDurationIsStoppedAndRecordedTimedOut() async throws {
        let fixture = try EngineFixture { $0.repositories["local"]?.check.maxDuration = .seconds(3_600) }
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "check")
        let engine = try fixture.makeEngine()
        let job = try await engine.submit(JobRequest(operation: .check(repository: "local", readDataSubset: nil), trigger: .api))
        await fixture.backend.waitForCall("local", "check")
        await fixture.clock.waitForSleepers(1)
        fixture.clock.advance(by: .seconds(3_600))
        let record = try await engine.waitForCompletion(jobID: job.id)
        #expect(record.state == .timedOut)
        #expect(record.error == "The check of local ran longer than its max_duration of 1h and was stopped.")
        #expect(fixture.backend.stoppedCleanly.map(\.operation) == ["check"])
    }

    @Test func cancellingAQueuedJobRemovesItAndARunningOneStopsIt() async throws {
        let fixture = try EngineFixture(backups: EngineFixture.documentsAndPictures())
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.setInitialized("usb")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let running = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let queued = try await engine.backup("pictures")

        let cancelledQueued = try await engine.cancel(jobID: queued.id)
        #expect(cancelledQueued.state == .cancelled)
        #expect(cancelledQueued.startedAt == nil)
        #expect(await engine.status().queued.isEmpty)

        let cancelledRunning = try await engine.cancel(jobID: running.id)
        #expect(cancelledRunning.state == .cancelled)
        #expect(fixture.backend.stoppedCleanly.map(\.repository) == ["local"])
        // Nothing of "pictures" ever ran.
        #expect(fixture.backend.calls.allSatisfy { $0.repository == "local" })
        await #expect(throws: EngineError.self) { try await engine.cancel(jobID: running.id) }
        await #expect(throws: EngineError.self) { try await engine.cancel(jobID: "no-such-job") }
    }

    @Test func runInProcessPassesEventsAndCancelsWithTheCallingTask() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        let engine = try fixture.makeEngine()
        let seen = EventLog()
        let record = try await engine.runInProcess(JobRequest(operation: .backup(backup: "documents", repositories: nil), trigger: .cli)) { seen.append($0) }
        #expect(record.state == .succeeded)
        #expect(record.trigger == .cli)
        let states = seen.events.compactMap { event -> JobState? in
            if case .state(_, let state, _) = event { return state }
            return nil
        }
        #expect(states == [.queued, .running, .succeeded])
        #expect(seen.events.contains { if case .stepStarted(_, let step) = $0 { step.id == "backup:local" } else { false } })

        fixture.backend.block("local", "backup")
        let task = Task {
            try await engine.runInProcess(JobRequest(operation: .backup(backup: "documents", repositories: nil), trigger: .cli)) { _ in }
        }
        await fixture.backend.waitForCall("local", "backup", count: 2)
        task.cancel()
        let cancelled = try await task.value
        #expect(cancelled.state == .cancelled)
        #expect(fixture.backend.stoppedCleanly.count == 1)
    }

    @Test func shutdownLetsAJobFinishWithinTheGraceAndKeepsTheQueue() async throws {
        let fixture = try EngineFixture(backups: EngineFixture.documentsAndPictures())
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let running = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let queued = try await engine.backup("pictures")

        let shutdown = Task { await engine.shutdown(grace: .seconds(30)) }
        await fixture.clock.waitForSleepers(1)
        fixture.backend.release("local", "backup")
        await shutdown.value
        #expect(try await engine.store.record(id: running.id)?.state == .succeeded)
        // The queued job was not started and stays queued for the next start.
        #expect(try await engine.store.record(id: queued.id)?.state == .queued)
        #expect(fixture.backend.calls("backup").map(\.repository) == ["local"])
        await #expect(throws: EngineError.self) { try await engine.backup("pictures") }
    }

    @Test func shutdownStopsAJobThatOutlastsTheGraceAndRecordsItInterrupted() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let running = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        let shutdown = Task { await engine.shutdown(grace: .seconds(30)) }
        await fixture.clock.waitForSleepers(1)
        fixture.clock.advance(by: .seconds(30))
        await shutdown.value
        let record = try #require(try await engine.store.record(id: running.id))
        #expect(record.state == .interrupted)
        #expect(record.error?.contains("shutdown_grace") == true)
        #expect(fixture.backend.stoppedCleanly.map(\.operation) == ["backup"])
    }

    @Test func theWatchdogWarnsASilentJobOnce() async throws {
        let fixture = try EngineFixture()
        defer { fixture.close() }
        fixture.backend.setInitialized("local")
        fixture.backend.block("local", "backup")
        let engine = try fixture.makeEngine()
        let running = try await engine.backup("documents")
        await fixture.backend.waitForCall("local", "backup")
        // The driver's last line ("backing up …") reaches the record before the clock moves on.
        for _ in 0..<500 where try await engine.job(id: running.id)?.lastReportAt == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        fixture.clock.advance(by: .seconds(300))
        var status = await engine.watchdogTick()
        #expect(status.running.map(\.record.warnings) == [[]])
        fixture.clock.advance(by: .seconds(400))
        status = await engine.watchdogTick()
        _ = await engine.watchdogTick()
        let warnings = try #require(status.running.first?.record.warnings)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("reported nothing for 11 minutes") == true)
        #expect(status.running.first?.secondsSinceLastReport == 700)
        #expect(WatchdogService.line(status).hasPrefix("queue 0, running 1: backup documents (backup to local, last report 11m ago)"))
        fixture.backend.release("local", "backup")
        let record = try await engine.waitForCompletion(jobID: running.id)
        #expect(record.state == .succeeded)
        #expect(record.warnings.count == 1)
    }
}
