import ArgumentParser

extension HenBackup {
    /// Every command, in the order `--help` lists them. Add new commands here.
    static let commands: [any ParsableCommand.Type] = [
        DaemonCommand.self,
        ConfigCommand.self,
        BackupCommand.self,
        PruneCommand.self,
        CheckCommand.self,
        SnapshotsCommand.self,
        LsCommand.self,
        RestoreCommand.self,
        DrillCommand.self,
        DiffCommand.self,
        AlarmCommand.self,
        JobsCommand.self,
        JobCommand.self,
        CancelCommand.self,
        StatusCommand.self,
    ]
}
