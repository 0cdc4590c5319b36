import Foundation
@testable import HenDrivers
import Testing

/// The time Hen gives restic for a new snapshot (`--time`, whole seconds): two backups of one repository
/// within a second get different times, so restic can tell the latest (`forget --keep-last`, its parent).
@Suite struct ResticSnapshotTimeTests {
    @Test func backupsWithinOneSecondGetIncreasingTimes() {
        let location = "/tmp/hen-time-\(UUID().uuidString)"
        let now = Date(timeIntervalSince1970: 1_800_000_000.25)
        let first = ResticDriver.snapshotTime(for: location, now: now)
        let second = ResticDriver.snapshotTime(for: location, now: now.addingTimeInterval(0.5))
        let third = ResticDriver.snapshotTime(for: location, now: now.addingTimeInterval(0.6))
        #expect(first == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(second == Date(timeIntervalSince1970: 1_800_000_001))
        #expect(third == Date(timeIntervalSince1970: 1_800_000_002))
        // Once the clock is past them, the time is the clock's again.
        #expect(ResticDriver.snapshotTime(for: location, now: now.addingTimeInterval(10)) == Date(timeIntervalSince1970: 1_800_000_010))
    }

    @Test func eachRepositoryKeepsItsOwnTimes() {
        let now = Date(timeIntervalSince1970: 1_800_000_100.5)
        let one = "/tmp/hen-time-\(UUID().uuidString)", other = "/tmp/hen-time-\(UUID().uuidString)"
        #expect(ResticDriver.snapshotTime(for: one, now: now) == Date(timeIntervalSince1970: 1_800_000_100))
        #expect(ResticDriver.snapshotTime(for: other, now: now) == Date(timeIntervalSince1970: 1_800_000_100))
    }
}
