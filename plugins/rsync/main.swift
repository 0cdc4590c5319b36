import Foundation
import HenPluginProtocol

/// hen-plugin-rsync: plain directory snapshots made with `rsync --link-dest` (unchanged files are hard links
/// to the previous snapshot's), in a local directory or over SSH (`user@host:/path`). Not encrypted: the
/// files lie in the repository as they are, for people who want to browse them on a NAS (docs/drivers.md).
let description = DriverDescription(
    name: "rsync",
    capabilities: [.bandwidthLimits, .deduplication],
    password: .none,
    location: .init(remotePrefixes: [], hostPaths: true),
    keys: [.env, .limits]
)

await PluginMain.run { request, output in
    if request.operation == .describe {
        return PluginResult(protocolVersion: PluginProtocol.version, description: description)
    }
    let rsync = try Rsync(request, output: output)
    switch request.operation {
    case .describe: return nil
    case .verify: return PluginResult(programs: try await rsync.versions())
    case .status: return PluginResult(initialized: try await rsync.isInitialized())
    case .initialize: return PluginResult(initialize: try await rsync.initialize())
    case .backup: return PluginResult(backup: try await rsync.backup())
    case .snapshots:
        let filter = request.filter ?? SnapshotFilter()
        for entry in try await rsync.entries() where filter.matches(entry.snapshot) {
            output.send(.snapshot(entry.snapshot))
        }
        return PluginResult()
    case .list:
        try await rsync.list()
        return PluginResult()
    case .dump:
        try await rsync.dump()
        return nil
    case .restore: return PluginResult(restore: try await rsync.restore())
    case .forget: return PluginResult(forget: try await rsync.forget())
    case .check: return PluginResult(check: try await rsync.check())
    case .stats: return PluginResult(stats: try await rsync.stats())
    case .unlock:
        throw DriverError(.unsupported, "The rsync driver keeps no locks; there is nothing to unlock.")
    case .diff:
        // Not in the description: Hen compares two snapshots through their listings in its index instead.
        throw DriverError(.unsupported, "The rsync driver does not compare snapshots itself; Hen compares their listings.")
    }
}
