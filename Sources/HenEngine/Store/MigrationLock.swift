import Foundation

/// Two processes opening a new SQLite store together (the daemon starting, a CLI or a test reading it) race:
/// switching the new file to WAL fails with "database is locked", and GRDB reads which migrations are
/// applied before it takes a write lock, so both create the tables and one fails with "table … already
/// exists". A file lock beside the store (`<store>-migration.lock`) makes them take turns to open and migrate.
/// The job store and the snapshot index both open through it.
enum MigrationLock {
    static func exclusively<T>(path: String, _ body: () throws -> T) throws -> T {
        let descriptor = open(path + "-migration.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw EngineError(.store, "cannot create \(path)-migration.lock: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw EngineError(.store, "cannot lock \(path)-migration.lock: \(String(cString: strerror(errno)))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
