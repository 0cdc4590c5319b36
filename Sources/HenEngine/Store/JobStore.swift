import Foundation
import GRDB
import HenDrivers

/// The durable record of every job: SQLite (WAL) at `data_dir/jobs.sqlite`, migrated from its first
/// version on. Several processes may open it at once (the daemon and an in-process CLI).
public final class JobStore: Sendable {
    public let path: String
    private let pool: DatabasePool
    /// Held by a store that records jobs (the daemon's, an in-process job's) for its whole life.
    private let claim: DataDirectoryLock?

    /// Opens (creating when needed) the store at `path` and migrates it to the current schema.
    /// - Parameter claim: the data directory's lock, taken before the store is touched, kept while it lives.
    public init(path: String, claim: DataDirectoryLock? = nil) throws {
        self.path = path
        self.claim = claim
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var configuration = GRDB.Configuration()
            // The daemon and a CLI may write at the same moment; wait for each other instead of failing.
            configuration.busyMode = .timeout(10)
            pool = try MigrationLock.exclusively(path: path) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try Self.migrator.migrate(pool)
                return pool
            }
        } catch {
            throw EngineError(.store, "The job store \(path) cannot be opened: \(error).")
        }
    }

    /// Opens the store of a data directory: `data_dir/jobs.sqlite`.
    /// - Parameter role: set for a process that runs jobs ("daemon", "backup job"): it first takes the data
    ///   directory's ``DataDirectoryLock`` and fails with `.dataDirectoryInUse` while another process holds it.
    ///   Nil for readers, which may open the store beside a running daemon.
    public convenience init(dataDirectory: String, exclusiveAs role: String? = nil) throws {
        let claim = try role.map { role throws(EngineError) in try DataDirectoryLock(dataDirectory: dataDirectory, role: role) }
        try self.init(path: (dataDirectory as NSString).appendingPathComponent("jobs.sqlite"), claim: claim)
    }

    // MARK: Writing

    /// Inserts or replaces a record.
    public func save(_ record: JobRecord) async throws {
        let arguments = try Self.arguments(for: record)
        try await write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO job (id, operation, target, backup, request, trigger, priority, state, repositories,
                        queued_at, started_at, ended_at, last_report_at, steps, progress, warnings, error, results, log)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: arguments
            )
            try Self.noteRun(of: record, in: db)
        }
    }

    /// Marks every job left `running` (by a process that died) as `interrupted`, and returns them.
    public func markRunningInterrupted(at date: Date, reason: String) async throws -> [JobRecord] {
        let running = try await records(states: [.running])
        var changed: [JobRecord] = []
        for var record in running {
            record.state = .interrupted
            record.endedAt = date
            record.error = record.error ?? reason
            for index in record.steps.indices where record.steps[index].state == .running {
                record.steps[index].state = .cancelled
                record.steps[index].endedAt = date
            }
            try await save(record)
            changed.append(record)
        }
        return changed
    }

    /// Deletes finished jobs that ended before `cutoff`, then all but the newest `maxJobs` finished jobs.
    /// Returns how many were deleted.
    @discardableResult
    public func enforceRetention(endedBefore cutoff: Date, maxJobs: Int) async throws -> Int {
        try await write { db in
            let finished = "state NOT IN ('queued', 'running')"
            try db.execute(sql: "DELETE FROM job WHERE \(finished) AND COALESCE(ended_at, queued_at) < ?", arguments: [cutoff.timeIntervalSince1970])
            var deleted = db.changesCount
            try db.execute(
                sql: "DELETE FROM job WHERE id IN (SELECT id FROM job WHERE \(finished) ORDER BY queued_at DESC, id DESC LIMIT -1 OFFSET ?)",
                arguments: [max(0, maxJobs)]
            )
            deleted += db.changesCount
            return deleted
        }
    }

    // MARK: Reading

    public func record(id: String) async throws -> JobRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id]).map { try Self.record(from: $0) }
        }
    }

    /// Records matching `filter`, newest first, at most `filter.limit`.
    public func records(_ filter: JobFilter) async throws -> [JobRecord] {
        try await records(filter, columns: "*", withLog: true)
    }

    /// Records matching `filter` as lists show them (``JobRecord/summary``: the log left empty), newest
    /// first, at most `filter.limit`. The log column is neither read nor decoded.
    public func summaries(_ filter: JobFilter) async throws -> [JobRecord] {
        try await records(filter, columns: Self.summaryColumns, withLog: false)
    }

    private func records(_ filter: JobFilter, columns: String, withLog: Bool) async throws -> [JobRecord] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if !filter.states.isEmpty {
            clauses.append("state IN (\(filter.states.map { _ in "?" }.joined(separator: ", ")))")
            for state in filter.states { _ = arguments.append(contentsOf: [state.rawValue]) }
        }
        if let backup = filter.backup {
            clauses.append("backup = ?")
            _ = arguments.append(contentsOf: [backup])
        }
        if let target = filter.target {
            clauses.append("target = ?")
            _ = arguments.append(contentsOf: [target])
        }
        if let operation = filter.operation {
            clauses.append("operation = ?")
            _ = arguments.append(contentsOf: [operation.rawValue])
        }
        if let after = filter.after {
            clauses.append("(queued_at < ? OR (queued_at = ? AND id < ?))")
            _ = arguments.append(contentsOf: [after.queuedAt, after.queuedAt, after.id])
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        _ = arguments.append(contentsOf: [max(0, filter.limit)])
        let sql = "SELECT \(columns) FROM job \(whereClause) ORDER BY queued_at DESC, id DESC LIMIT ?"
        let finalArguments = arguments
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { try Self.record(from: $0, withLog: withLog) }
        }
    }

    /// Every record in these states, oldest first (for recovery: not bounded).
    public func records(states: [JobState]) async throws -> [JobRecord] {
        let sql = "SELECT * FROM job WHERE state IN (\(states.map { _ in "?" }.joined(separator: ", "))) ORDER BY queued_at, id"
        let arguments = StatementArguments(states.map(\.rawValue))
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { try Self.record(from: $0) }
        }
    }

    /// When an operation on a target last ran: the start (or queueing) of its newest job that was not
    /// interrupted. An interrupted job does not count, so the next start runs it again. Ended jobs are read
    /// from `last_run`, which the history retention never trims; queued and running ones from the history.
    public func lastRun(operation: JobOperation.Kind, target: String) async throws -> Date? {
        try await read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT MAX(at) FROM (
                        SELECT started_at AS at FROM last_run WHERE operation = ? AND target = ?
                        UNION ALL
                        SELECT MAX(COALESCE(started_at, queued_at)) FROM job WHERE operation = ? AND target = ? AND state IN ('queued', 'running')
                    )
                    """,
                arguments: [operation.rawValue, target, operation.rawValue, target]
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// When an operation on a target last succeeded (the end of its newest `succeeded` or `warning` job),
    /// kept apart from the trimmed history.
    public func lastSuccess(operation: JobOperation.Kind, target: String) async throws -> Date? {
        try await read { db in
            try Double.fetchOne(db, sql: "SELECT succeeded_at FROM last_run WHERE operation = ? AND target = ?", arguments: [operation.rawValue, target])
                .map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Keeps `last_run` up to date with an ended record (in the transaction that saves it).
    private static func noteRun(of record: JobRecord, in db: Database) throws {
        guard record.state.isFinished, record.state != .interrupted else { return }
        let started = (record.startedAt ?? record.queuedAt).timeIntervalSince1970
        let succeeded: Double? = record.state == .succeeded || record.state == .warning ? (record.endedAt ?? record.queuedAt).timeIntervalSince1970 : nil
        try db.execute(
            sql: """
                INSERT INTO last_run (operation, target, started_at, succeeded_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (operation, target) DO UPDATE SET
                    started_at = MAX(COALESCE(started_at, excluded.started_at), excluded.started_at),
                    succeeded_at = CASE WHEN excluded.succeeded_at IS NULL THEN succeeded_at
                        ELSE MAX(COALESCE(succeeded_at, excluded.succeeded_at), excluded.succeeded_at) END
                """,
            arguments: [record.operation, record.target, started, succeeded]
        )
    }

    /// Writes the one row of `store_probe` (see ``checkWritable()``).
    func writeProbe() async throws {
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO store_probe (id, written_at) VALUES (1, ?)", arguments: [Date().timeIntervalSince1970])
        }
    }

    /// Reads the store without counting it (health asks on every request; `COUNT(*)` of 100,000 records made
    /// `GET /health` three times slower than with 20,000, bench/run).
    public func checkReadable() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM job LIMIT 1") }
    }

    public func count() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job") ?? 0 }
    }

    // MARK: Plumbing

    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.store, "The job store \(path) cannot be written: \(error).")
        }
    }

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.store, "The job store \(path) cannot be read: \(error).")
        }
    }
}
