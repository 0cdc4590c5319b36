import ArgumentParser

extension HenBackup {
    /// Every command, in the order `--help` lists them. Add new commands here.
    static let commands: [any ParsableCommand.Type] = [
        DaemonCommand.self,
        JobsCommand.self,
        JobCommand.self,
        CancelCommand.self,
        StatusCommand.self,
    ]
}
