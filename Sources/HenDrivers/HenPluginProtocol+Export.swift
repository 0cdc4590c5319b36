// The driver contract's value types (snapshots, nodes, summaries, requests, errors, descriptions) live in
// HenPluginProtocol, shared with the plugins we ship; whoever imports HenDrivers sees them as before.
@_exported import HenPluginProtocol

/// Inside HenDrivers `Progress` is the driver contract's, not Foundation's.
typealias Progress = HenPluginProtocol.Progress
