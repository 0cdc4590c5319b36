import ArgumentParser
import HenEngine

@main
struct HenBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hen-backup",
        abstract: "An automatic backup daemon that supervises restic.",
        // The version the API reports (`/api/v1/status`, `hen_daemon_info`).
        version: HenVersion.current,
        subcommands: HenBackup.commands
    )
}
