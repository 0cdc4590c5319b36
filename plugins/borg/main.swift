import Foundation
import HenPluginProtocol
import HenProcess
import Synchronization

/// hen-plugin-borg: BorgBackup behind Hen's driver contract (docs/plugins.md, docs/drivers.md).
let description = DriverDescription(
    name: "borg",
    capabilities: [.encrypted, .deduplication, .readDataSubset],
    password: .required,
    location: .init(remotePrefixes: ["ssh://"], hostPaths: true),
    keys: [.env]
)

await PluginMain.run { request, output in
    if request.operation == .describe {
        return PluginResult(protocolVersion: PluginProtocol.version, description: description)
    }
    let borg = try Borg(request, output: output)
    switch request.operation {
    case .describe: return nil
    case .verify: return PluginResult(programs: [try await borg.version()])
    case .status: return PluginResult(initialized: try await borg.isInitialized())
    case .initialize: return PluginResult(initialize: try await borg.initialize())
    case .backup: return PluginResult(backup: try await borg.backup())
    case .snapshots:
        let filter = request.filter ?? SnapshotFilter()
        for archive in try await borg.archives() where filter.matches(archive.snapshot) {
            output.send(.snapshot(archive.snapshot))
        }
        return PluginResult()
    case .list:
        try await borg.list()
        return PluginResult()
    case .dump:
        try await borg.dump()
        return nil
    case .restore: return PluginResult(restore: try await borg.restore())
    case .forget: return PluginResult(forget: try await borg.forget())
    case .check: return PluginResult(check: try await borg.check())
    case .stats: return PluginResult(stats: try await borg.stats())
    case .unlock:
        throw DriverError(.unsupported, "borg removes the stale locks of its own dead processes itself; the borg driver has no unlock.")
    case .diff:
        // Not in the description: Hen compares two borg archives through its snapshot index instead.
        throw DriverError(.unsupported, "The borg driver does not compare archives itself; Hen compares their listings.")
    }
}
