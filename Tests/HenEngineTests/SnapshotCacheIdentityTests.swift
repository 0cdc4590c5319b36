import Foundation
import HenDrivers
import Testing
@testable import HenEngine

/// The snapshot list cache is keyed by repository name; a name moved to another repository (a new
/// location or driver, by a reload or a restart) must not keep showing the old repository's snapshots.
@Suite struct SnapshotCacheIdentityTests {
    @Test func aRepositoryNameMovedElsewhereDropsItsCachedList() async throws {
        let fixture = try await ResticSnapshotFixture()
        defer { fixture.close() }
        try await fixture.snapshot()
        let engine = try fixture.makeEngine()
        #expect(try await engine.snapshots().items.count == 1)
        #expect(fixture.counter.count("snapshots") == 1)
        // Cached: a second look reads no repository.
        #expect(try await engine.snapshots().items.count == 1)
        #expect(fixture.counter.count("snapshots") == 1)

        // A reload points the name at a repository that does not exist yet: no snapshots there.
        var moved = fixture.configuration
        moved.repositories["local"]?.location = fixture.root + "/elsewhere"
        try await engine.reload(moved)
        #expect(try await engine.snapshots().items.isEmpty)
        #expect(fixture.counter.count("snapshots") == 2)
        // The same configuration reloaded again changes nothing: the list read at the new place stays cached.
        try await engine.reload(moved)
        #expect(try await engine.snapshots().items.isEmpty)
        #expect(fixture.counter.count("snapshots") == 2)

        // A restart on the first location (same data directory) reads that repository again.
        let restarted = try fixture.makeEngine(fixture.configuration)
        #expect(try await restarted.snapshots().items.count == 1)
        #expect(fixture.counter.count("snapshots") == 3)
    }
}
