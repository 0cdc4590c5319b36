import Foundation
import HenDrivers

/// One driver under the conformance scenario: how to build it for a repository directory and a host.
protocol DriverFixture: Sendable {
    var name: String { get }
    func makeDriver(repositoryDirectory: URL, hostname: String) async throws -> any BackupDriver
    /// Damages stored data of `snapshotID` so that `check` must report it; false when it found nothing to
    /// damage (the scenario then fails: every driver must show that `check` finds damage).
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool
    /// What the driver's answers carry beyond what every driver must report. For what is not in it, the
    /// scenario expects nil ("not known") or the right value, never a wrong one.
    var reports: DriverReports { get }
}

/// Optional facts in a driver's answers.
struct DriverReports: OptionSet, Sendable {
    let rawValue: Int
    /// `list` gives a symbolic link's target.
    static let linkTargets = DriverReports(rawValue: 1 << 0)
    /// `restore` counts the files it restored.
    static let restoredFileCounts = DriverReports(rawValue: 1 << 1)
}
