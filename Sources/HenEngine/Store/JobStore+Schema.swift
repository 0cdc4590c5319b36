import Foundation
import GRDB
import HenDrivers
import HenJSON

extension JobStore {
    /// Every schema version, from the first on. Add a migration; never edit a shipped one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE job (
                        id TEXT PRIMARY KEY NOT NULL,
                        operation TEXT NOT NULL,
                        target TEXT NOT NULL,
                        backup TEXT,
                        request TEXT NOT NULL,
                        trigger TEXT NOT NULL,
                        priority TEXT NOT NULL,
                        state TEXT NOT NULL,
                        repositories TEXT NOT NULL,
                        queued_at REAL NOT NULL,
                        started_at REAL,
                        ended_at REAL,
                        last_report_at REAL,
                        steps TEXT NOT NULL,
                        progress TEXT,
                        warnings TEXT NOT NULL,
                        error TEXT,
                        results TEXT NOT NULL,
                        log TEXT NOT NULL
                    );
                    CREATE INDEX job_by_state ON job(state);
                    CREATE INDEX job_by_queued_at ON job(queued_at);
                    CREATE INDEX job_by_operation_target ON job(operation, target);
                    CREATE INDEX job_by_backup ON job(backup);
                    """
            )
        }
        // v2: job requests are stored in the API's spelling (`init`, `read_data_subset`), see `JobOperation`.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    UPDATE job SET request = replace(replace(request, '"readDataSubset":', '"read_data_subset":'), '{"initialize":', '{"init":')
                    WHERE request LIKE '%"readDataSubset":%' OR request LIKE '{"initialize":%'
                    """
            )
        }
        // v3: the mass-deletion alarm of each backup (one row, the latest), and what restore drills drilled.
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE backup_alarm (
                        backup TEXT PRIMARY KEY NOT NULL,
                        repository TEXT NOT NULL,
                        job_id TEXT NOT NULL,
                        snapshot_id TEXT NOT NULL,
                        parent_id TEXT NOT NULL,
                        removed INTEGER NOT NULL,
                        parent_files INTEGER NOT NULL,
                        threshold TEXT NOT NULL,
                        message TEXT NOT NULL,
                        raised_at REAL NOT NULL,
                        acknowledged_at REAL
                    );
                    CREATE TABLE drilled_file (
                        backup TEXT NOT NULL,
                        repository TEXT NOT NULL,
                        path TEXT NOT NULL,
                        drilled_at REAL NOT NULL,
                        PRIMARY KEY (backup, repository, path)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // v4: one row written by `checkWritable()` to learn whether the store can record a job now.
        migrator.registerMigration("v4") { db in
            try db.execute(sql: "CREATE TABLE store_probe (id INTEGER PRIMARY KEY NOT NULL, written_at REAL NOT NULL)")
        }
        // v5: when each operation on each target last ran and last succeeded, apart from the job history,
        // which `job_history` trims: schedules and health must not forget a run when its record goes.
        migrator.registerMigration("v5") { db in
            try db.execute(
                sql: """
                    CREATE TABLE last_run (
                        operation TEXT NOT NULL,
                        target TEXT NOT NULL,
                        started_at REAL,
                        succeeded_at REAL,
                        PRIMARY KEY (operation, target)
                    );
                    INSERT INTO last_run (operation, target, started_at, succeeded_at)
                        SELECT operation, target, MAX(COALESCE(started_at, queued_at)),
                            MAX(CASE WHEN state IN ('succeeded', 'warning') THEN COALESCE(ended_at, queued_at) END)
                        FROM job WHERE state NOT IN ('queued', 'running', 'interrupted') GROUP BY operation, target;
                    """)
        }
        // v6: indexes for what start-up and the lists ask of a long history: a backup's newest jobs of one
        // operation (the stored metrics, the last drill, `GET /jobs?backup=`) and whether an operation on a
        // target is queued or running (the planner). Without them each such query read every row of the
        // backup or target, decoding nothing but reading all their pages (10,000 records: most of start-up).
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    CREATE INDEX job_by_backup_operation_queued_at ON job(backup, operation, queued_at, id);
                    CREATE INDEX job_by_operation_target_state ON job(operation, target, state);
                    """
            )
        }
        return migrator
    }

    /// The JSON columns follow HenJSON's convention with dates as seconds since 1970 (as they have since v1).
    /// Rows written before the convention (progress in camelCase, absent values left out) read as well.
    private static let encoder = HenJSON.encoder(dates: .secondsSince1970)

    private static func json(_ value: some Encodable) throws -> String {
        try encoder.string(value)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try HenJSON.decoder().decode(type, from: Data(text.utf8))
    }

    static func arguments(for record: JobRecord) throws -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            record.id,
            record.operation,
            record.target,
            record.request.backup,
            try json(record.request),
            try json(record.trigger),
            record.priority.description,
            record.state.rawValue,
            try json(record.repositories),
            record.queuedAt.timeIntervalSince1970,
            record.startedAt?.timeIntervalSince1970,
            record.endedAt?.timeIntervalSince1970,
            record.lastReportAt?.timeIntervalSince1970,
            try json(record.steps),
            try record.progress.map { try json($0) },
            try json(record.warnings),
            record.error,
            try json(record.results),
            try json(record.log),
        ]
        return StatementArguments(values)
    }

    /// Every column but `log`: what ``JobStore/summaries(_:)`` reads.
    static let summaryColumns = """
        id, operation, target, backup, request, trigger, priority, state, repositories,
        queued_at, started_at, ended_at, last_report_at, steps, progress, warnings, error, results
        """

    /// A record from its row; `withLog` false for a row without the `log` column (its log is left empty).
    static func record(from row: Row, withLog: Bool = true) throws -> JobRecord {
        let priorityText: String = row["priority"]
        let stateText: String = row["state"]
        guard let priority = JobPriority(recordText: priorityText), let state = JobState(rawValue: stateText) else {
            throw EngineError(.store, "The job store holds job \(row["id"] as String) with an unknown priority or state.")
        }
        let progressText: String? = row["progress"]
        let startedAt: Double? = row["started_at"]
        let endedAt: Double? = row["ended_at"]
        let lastReportAt: Double? = row["last_report_at"]
        return JobRecord(
            id: row["id"],
            request: try decode(JobOperation.self, row["request"]),
            trigger: try decode(JobTrigger.self, row["trigger"]),
            priority: priority,
            state: state,
            repositories: try decode([String].self, row["repositories"]),
            queuedAt: Date(timeIntervalSince1970: row["queued_at"]),
            startedAt: startedAt.map(Date.init(timeIntervalSince1970:)),
            endedAt: endedAt.map(Date.init(timeIntervalSince1970:)),
            steps: try decode([JobStep].self, row["steps"]),
            progress: try progressText.map { try decode(HenDrivers.Progress.self, $0) },
            lastReportAt: lastReportAt.map(Date.init(timeIntervalSince1970:)),
            warnings: try decode([String].self, row["warnings"]),
            error: row["error"],
            results: try decode([RepositoryResult].self, row["results"]),
            log: withLog ? try decode([JobLogLine].self, row["log"]) : []
        )
    }
}
