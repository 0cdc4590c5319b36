import Foundation

extension Engine {
    /// When a backup appeared: the reload that added it, else the engine's start.
    func appearance(ofBackup name: String) -> Date {
        appearances["backup:\(name)"] ?? createdAt
    }

    /// When a repository appeared: the reload that added it, else the engine's start.
    func appearance(ofRepository name: String) -> Date {
        appearances["repository:\(name)"] ?? createdAt
    }

    /// When the target of a scheduled operation appeared (a prune's is its backup's).
    func appearance(of operation: JobOperation) -> Date {
        if let backup = operation.backup { return appearance(ofBackup: backup) }
        return appearance(ofRepository: operation.target)
    }

    /// Notes the backups and repositories a reload adds (now) and forgets those it removes, so that a
    /// backup added to a running daemon is not judged overdue, nor its cron schedule fired, from the
    /// daemon's start.
    func noteAppearances(old: Configuration, new: Configuration) {
        let date = now()
        let oldBackups = Set(old.backups.map(\.name))
        let newBackups = Set(new.backups.map(\.name))
        for name in newBackups.subtracting(oldBackups) { appearances["backup:\(name)"] = date }
        for name in oldBackups.subtracting(newBackups) { appearances["backup:\(name)"] = nil }
        let oldRepositories = Set(old.repositories.keys)
        let newRepositories = Set(new.repositories.keys)
        for name in newRepositories.subtracting(oldRepositories) { appearances["repository:\(name)"] = date }
        for name in oldRepositories.subtracting(newRepositories) { appearances["repository:\(name)"] = nil }
    }
}
