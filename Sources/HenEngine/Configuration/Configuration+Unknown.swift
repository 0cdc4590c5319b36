extension Configuration {
    /// "There is no repository named x (known: a, b)." — the one sentence for every caller (404 in the API).
    public func unknownRepository(_ name: String) -> EngineError {
        EngineError(.notFound, "There is no repository named \(name) (known: \(repositories.keys.sorted().joined(separator: ", "))).")
    }

    /// "There is no backup named x (known: a, b)." — the one sentence for every caller (404 in the API).
    public func unknownBackup(_ name: String) -> EngineError {
        EngineError(.notFound, "There is no backup named \(name) (known: \(backups.map(\.name).joined(separator: ", "))).")
    }
}
