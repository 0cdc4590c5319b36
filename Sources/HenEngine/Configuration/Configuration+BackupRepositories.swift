extension Configuration {
    /// The repositories a look at `backup`'s snapshots (every backup's when nil) reads: `chosen` when given,
    /// each of which must exist and, with a backup, be one of its repositories; else the backup's, in its
    /// order; else every repository, by name. The one rule for the engine's snapshot lists and the CLI's
    /// `snapshots`.
    public func repositories(ofBackup backup: String?, chosen: [String]? = nil) throws(EngineError) -> [String] {
        let all: [String]
        if let backup {
            guard let definition = self.backup(named: backup) else { throw unknownBackup(backup) }
            all = definition.repositories
        } else {
            all = repositories.keys.sorted()
        }
        guard let chosen else { return all }
        if let unknown = chosen.first(where: { repositories[$0] == nil }) { throw unknownRepository(unknown) }
        if let backup, let stranger = chosen.first(where: { !all.contains($0) }) {
            throw EngineError(.invalidRequest, "Backup \(backup) does not use repository \(stranger) (it uses \(all.joined(separator: ", "))).")
        }
        return chosen
    }
}
