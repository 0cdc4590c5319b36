/// Restores write into watched paths; those writes must not queue a backup of what was just restored.
extension WatchService {
    /// A suppression begun by ``beginSuppression(of:)``.
    public struct Suppression: Sendable, Hashable {
        let id: UInt64
    }

    /// Runs `body` (a restore into `paths`) with changes below `paths` ignored by every watcher.
    ///
    /// When `body` returns, each watcher first reads every event already queued by the kernel (the
    /// restore's writes are all queued by then), so none of them leaks out after the suppression ends.
    /// Changes elsewhere still count meanwhile, and directories the restore creates are watched.
    nonisolated(nonsending) public func suppress<T, E: Error>(paths: [String], while body: () async throws(E) -> T) async throws(E) -> T {
        let suppression = await beginSuppression(of: paths)
        do {
            let result = try await body()
            await endSuppression(suppression)
            return result
        } catch {
            await endSuppression(suppression)
            throw error
        }
    }

    /// Starts ignoring changes below `paths` (for callers that cannot wrap the restore in a closure).
    public func beginSuppression(of paths: [String]) async -> Suppression {
        Suppression(id: await watchers.beginSuppression(of: paths))
    }

    /// Ends a suppression once the watchers have read the changes made under it.
    public func endSuppression(_ suppression: Suppression) async {
        await watchers.endSuppression(suppression.id)
    }
}
