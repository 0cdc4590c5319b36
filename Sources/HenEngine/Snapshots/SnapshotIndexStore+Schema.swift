import GRDB

extension SnapshotIndexStore {
    /// Every schema version, from the first on. Add a migration; never edit a shipped one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE snapshot_list (
                        repository TEXT NOT NULL,
                        hostname TEXT NOT NULL,
                        refreshed_at REAL NOT NULL,
                        stale INTEGER NOT NULL,
                        PRIMARY KEY (repository, hostname)
                    );
                    CREATE TABLE snapshot (
                        repository TEXT NOT NULL,
                        hostname TEXT NOT NULL,
                        id TEXT NOT NULL,
                        short_id TEXT NOT NULL,
                        time INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        tags TEXT NOT NULL,
                        paths TEXT NOT NULL,
                        parent TEXT,
                        backup TEXT,
                        PRIMARY KEY (repository, hostname, id)
                    );
                    CREATE INDEX snapshot_by_time ON snapshot(hostname, time DESC);
                    CREATE TABLE tree (
                        key INTEGER PRIMARY KEY AUTOINCREMENT,
                        repository TEXT NOT NULL,
                        snapshot_id TEXT NOT NULL,
                        complete INTEGER NOT NULL,
                        node_count INTEGER NOT NULL,
                        started_at REAL NOT NULL,
                        UNIQUE (repository, snapshot_id)
                    );
                    CREATE TABLE node (
                        tree INTEGER NOT NULL,
                        parent TEXT NOT NULL,
                        name TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        size INTEGER,
                        mode INTEGER,
                        mtime REAL,
                        link_target TEXT,
                        PRIMARY KEY (tree, parent, name)
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }
}
