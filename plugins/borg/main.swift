import HenPluginProtocol

/// hen-plugin-borg: BorgBackup behind Hen's driver contract (docs/plugins.md, docs/drivers.md).
await PluginMain.run(Borg.self)
