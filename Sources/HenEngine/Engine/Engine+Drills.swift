import Foundation

extension Engine {
    /// Queues a restore drill of a backup now.
    public func drill(backup: String, trigger: JobTrigger = .api, priority: JobPriority? = nil) async throws -> JobRecord {
        try await submit(JobRequest(operation: .drill(backup: backup), trigger: trigger, priority: priority))
    }
}

extension Configuration {
    /// A request's priority when it names none: the backup's for its backups and prunes, `normal` for
    /// operations without a backup, and for a drill one below every backup's level (at most `inferior`),
    /// so that a drill never overtakes a queued backup.
    func defaultPriority(of operation: JobOperation) -> JobPriority {
        if case .drill = operation {
            if backups.contains(where: { $0.priority == .onIdle }) { return .onIdle }
            let lowest = backups.compactMap { backup -> Int? in
                if case .level(let level) = backup.priority { return level }
                return nil
            }.min() ?? 0
            return .level(min(JobPriority.inferiorLevel, lowest - 1))
        }
        return operation.backup.flatMap { backup(named: $0)?.priority } ?? .normal
    }
}
