import ArgumentParser

extension HenBackup {
    /// Every command, in the order `--help` lists them. Add new commands here.
    static let commands: [any ParsableCommand.Type] = []
}
