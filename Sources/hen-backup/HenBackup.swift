import ArgumentParser

@main
struct HenBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hen-backup",
        abstract: "An automatic backup daemon that supervises restic.",
        subcommands: HenBackup.commands
    )
}
