import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// After downtime every missed operation is due at once: each runs once, queued in turn (by priority, one
/// per repository, never more waiting than max_concurrent_jobs), not all together.
@Suite struct EngineCatchUpTests {
    @Test func missedOperationsAreQueuedInTurnNotAllTogether() async throws {
        let hourly = try Schedule.parse("1h")
        let fixture = try EngineFixture(repositories: ["local": "fake", "usb": "fake", "cloud": "fake"], backups: [
            Configuration.Backup(name: "a", paths: ["/a"], repositories: ["local"], schedules: [hourly]),
            Configuration.Backup(name: "b", paths: ["/b"], repositories: ["usb"], schedules: [hourly], priority: .superior),
            Configuration.Backup(name: "c", paths: ["/c"], repositories: ["local"], schedules: [hourly], priority: .inferior),
            Configuration.Backup(name: "d", paths: ["/d"], repositories: ["cloud"], schedules: [hourly]),
        ])
        defer { fixture.close() }
        for name in ["local", "usb", "cloud"] {
            fixture.backend.setInitialized(name)
            fixture.backend.block(name, "backup")
        }
        let engine = try fixture.makeEngine()

        // The most important runs, the next waits in the queue; the others are not queued yet.
        let first = try await engine.submitDueJobs()
        #expect(first.map(\.target) == ["b", "a"])
        #expect(try await engine.submitDueJobs().isEmpty)
        #expect(try await engine.plannedRuns().filter { $0.date <= fixture.clock.date }.map(\.target).sorted() == ["c", "d"])

        fixture.backend.release("usb", "backup")
        #expect(try await engine.waitForCompletion(jobID: first[0].id).state == .succeeded)
        // `a` runs now; `c` shares its repository and waits; `d` takes the free queue place.
        #expect(try await engine.submitDueJobs().map(\.target) == ["d"])

        fixture.backend.release("local", "backup")
        #expect(try await engine.waitForCompletion(jobID: first[1].id).state == .succeeded)
        let last = try await engine.submitDueJobs()
        #expect(last.map(\.target) == ["c"])
        fixture.backend.release("cloud", "backup")
        #expect(try await engine.waitForCompletion(jobID: last[0].id).state == .succeeded)

        // Each missed backup ran once, and nothing is due any more.
        #expect(fixture.backend.calls("backup").map(\.repository) == ["usb", "local", "cloud", "local"])
        #expect(try await engine.submitDueJobs().isEmpty)
    }
}
