import Foundation
import HenDrivers

/// One driver under the conformance scenario: how to build it for a repository directory and a host.
protocol DriverFixture: Sendable {
    var name: String { get }
    func makeDriver(repositoryDirectory: URL, hostname: String) throws -> any BackupDriver
    /// Damages stored data of `snapshotID` so that `check` must report it; false when the fixture has no
    /// practical way to (the scenario then skips that step).
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool
}

extension DriverFixture {
    func corruptData(repositoryDirectory: URL, snapshotID: String) throws -> Bool { false }
}
