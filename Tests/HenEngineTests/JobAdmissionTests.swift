import Foundation
import Logging
import Testing
@testable import HenEngine

/// Admission and the queue alone, without an engine: what is queued, what an identical request gets, what
/// is refused. Nothing is started (that is ``JobExecution``'s), so every job stays queued.
@Suite struct JobAdmissionTests {
    /// An admission on the fixture's configuration ("documents" on local, "pictures" on usb), with its own
    /// queue, live records, store writer and event bus.
    struct Parts {
        let fixture: EngineFixture
        let live = LiveJobs()
        let queue: JobQueue
        let eventBus = EventBus()
        let store: JobStore
        let writer: StoreWriter
        let admission: JobAdmission

        init(configure: (inout Configuration) -> Void = { _ in }) throws {
            fixture = try EngineFixture(backups: EngineFixture.documentsAndPictures(picturesPriority: .inferior), configure: configure)
            let configuration = fixture.configuration
            queue = JobQueue(maxConcurrentJobs: configuration.maxConcurrentJobs)
            store = try JobStore(dataDirectory: configuration.dataDirectory)
            writer = StoreWriter(store: store, secrets: ConfigurationSecrets(configuration), logger: fixture.logger)
            let clock = fixture.clock
            admission = JobAdmission(
                queue: queue, live: live, configuration: ConfigurationInForce(configuration), restoreScope: .anywhere,
                writer: writer, eventBus: eventBus, now: { clock.date }, logger: fixture.logger
            )
        }
    }

    private func backup(_ name: String, priority: JobPriority? = nil) -> JobRequest {
        JobRequest(operation: .backup(backup: name, repositories: nil), trigger: .api, priority: priority)
    }

    @Test func aNewRequestIsRecordedQueuedAndAnnounced() async throws {
        let parts = try Parts()
        defer { parts.fixture.close() }
        let events = parts.eventBus.subscribe(jobID: nil).stream
        let admitted = try await parts.admission.submit(backup("pictures"))
        #expect(admitted.isNew)
        #expect(admitted.record.state == .queued)
        // The backup's own priority when the request names none; its repositories resolved.
        #expect(admitted.record.priority == .inferior)
        #expect(admitted.record.repositories == ["usb"])
        #expect(parts.live[admitted.record.id]?.state == .queued)
        #expect(await parts.queue.queuedEntries.map(\.id) == [admitted.record.id])
        var iterator = events.makeAsyncIterator()
        guard case .state(let id, let state, _)? = await iterator.next() else {
            Issue.record("no state event")
            return
        }
        #expect(id == admitted.record.id && state == .queued)
        await parts.writer.flush()
        #expect(try await parts.store.record(id: admitted.record.id)?.state == .queued)
    }

    @Test func anIdenticalRequestGetsTheQueuedJobAndMayRaiseItsPriority() async throws {
        let parts = try Parts()
        defer { parts.fixture.close() }
        let first = try await parts.admission.submit(backup("documents", priority: .inferior)).record
        let same = try await parts.admission.submit(backup("documents", priority: .inferior))
        #expect(!same.isNew && !same.priorityRaised)
        #expect(same.record.id == first.id)
        let raised = try await parts.admission.submit(backup("documents", priority: .superior))
        #expect(!raised.isNew && raised.priorityRaised)
        #expect(raised.record.id == first.id)
        #expect(parts.live[first.id]?.priority == .superior)
        #expect(await parts.queue.queuedEntries.map(\.priority) == [.superior])
        #expect(parts.live.records.count == 1)
    }

    @Test func requestsThatDoNotFitTheConfigurationAreRefused() async throws {
        let parts = try Parts()
        defer { parts.fixture.close() }
        await #expect(throws: EngineError.self) { try await parts.admission.submit(backup("nope")) }
        await #expect(throws: EngineError.self) {
            try await parts.admission.submit(JobRequest(operation: .backup(backup: "documents", repositories: ["usb"]), trigger: .api))
        }
        // No retention policy: nothing to prune by.
        await #expect(throws: EngineError.self) { try await parts.admission.submit(JobRequest(operation: .prune(backup: "documents"), trigger: .api)) }
        #expect(parts.live.records.isEmpty)
        #expect(await parts.queue.queuedEntries.isEmpty)
    }

    @Test func recoveryModeAdmitsOnlyChecksAndRestores() throws {
        var configuration = try Parts().fixture.configuration
        defer { try? FileManager.default.removeItem(atPath: (configuration.dataDirectory as NSString).deletingLastPathComponent) }
        configuration.mode = .recovery
        #expect(throws: EngineError.self) {
            try JobAdmission.validate(.backup(backup: "documents", repositories: nil), configuration: configuration, restoreScope: .anywhere)
        }
        #expect(try JobAdmission.validate(.check(repository: "local", readDataSubset: nil), configuration: configuration, restoreScope: .anywhere) == ["local"])
        // A typo in read_data_subset is refused before it runs.
        #expect(throws: EngineError.self) {
            try JobAdmission.validate(.check(repository: "local", readDataSubset: "5 percent"), configuration: configuration, restoreScope: .anywhere)
        }
    }

    @Test func nothingIsAdmittedOnceAShutdownBegan() async throws {
        let parts = try Parts()
        defer { parts.fixture.close() }
        parts.admission.stopAccepting()
        let error = await #expect(throws: EngineError.self) { try await parts.admission.submit(backup("documents")) }
        #expect(error?.code == .shuttingDown)
    }

    @Test func aRequeuedJobKeepsItsRecordUnlessAnIdenticalOneIsQueued() async throws {
        let parts = try Parts()
        defer { parts.fixture.close() }
        let date = parts.fixture.clock.date
        let earlier = JobRecord(id: "job-1", request: .backup(backup: "documents", repositories: nil), trigger: .api, priority: .normal, repositories: ["local"], queuedAt: date)
        #expect(try await parts.admission.requeue(earlier))
        #expect(parts.live["job-1"]?.state == .queued)
        var twin = earlier
        twin.id = "job-2"
        #expect(try await !parts.admission.requeue(twin))
        #expect(parts.live["job-2"] == nil)
        #expect(await parts.queue.queuedEntries.map(\.id) == ["job-1"])
    }
}
