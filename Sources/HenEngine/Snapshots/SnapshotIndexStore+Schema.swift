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
        // v2: the diffs of two snapshots, kept like trees (snapshots never change, so neither does their diff).
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE diff (
                        key INTEGER PRIMARY KEY AUTOINCREMENT,
                        repository TEXT NOT NULL,
                        from_id TEXT NOT NULL,
                        to_id TEXT NOT NULL,
                        method TEXT NOT NULL,
                        complete INTEGER NOT NULL,
                        added INTEGER NOT NULL DEFAULT 0,
                        removed INTEGER NOT NULL DEFAULT 0,
                        modified INTEGER NOT NULL DEFAULT 0,
                        bytes_added INTEGER,
                        bytes_removed INTEGER,
                        started_at REAL NOT NULL,
                        UNIQUE (repository, from_id, to_id)
                    );
                    CREATE TABLE diff_change (
                        diff INTEGER NOT NULL,
                        path TEXT NOT NULL,
                        change TEXT NOT NULL,
                        kind TEXT,
                        size INTEGER,
                        PRIMARY KEY (diff, path)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // v3: what each repository name stood for when its list was cached (driver and location), so that a
        // name moved to another repository does not keep the old one's snapshots.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: "CREATE TABLE repository_identity (repository TEXT PRIMARY KEY, identity TEXT NOT NULL)")
        }
        return migrator
    }
}
