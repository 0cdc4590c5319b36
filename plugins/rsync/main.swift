import HenPluginProtocol

/// hen-plugin-rsync: plain directory snapshots made with `rsync --link-dest` (unchanged files are hard links
/// to the previous snapshot's), in a local directory or over SSH (`user@host:/path`). Not encrypted: the
/// files lie in the repository as they are, for people who want to browse them on a NAS (docs/drivers.md).
await PluginMain.run(Rsync.self)
