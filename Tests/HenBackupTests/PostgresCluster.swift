import Foundation
import HenTestSupport

/// A PostgreSQL cluster of Debian's PostgreSQL, made by the test in a directory of its own and listening
/// on a free loopback port; as the `postgres` user when the tests run as root (PostgreSQL refuses root).
/// `stop()` ends it; `close()` stops it at once if it still runs.
final class PostgresCluster: @unchecked Sendable {
    // @unchecked: every property is set in init; `running` is only used from one test at a time.
    let directory: String
    let port: Int
    let binaries: String
    /// The superuser, whatever the OS user is: trust authentication on loopback, no password.
    static let user = "hen"
    private var running = false

    /// The newest PostgreSQL installed under /usr/lib/postgresql, or nil.
    static var binaryDirectory: String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap({ Int($0) }).max() else { return nil }
        let directory = "/usr/lib/postgresql/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(directory)/initdb") ? directory : nil
    }

    init(directory: String) throws {
        guard let binaries = Self.binaryDirectory else {
            throw DaemonTestError("PostgreSQL is not installed (make test installs Debian's postgresql).")
        }
        self.binaries = binaries
        self.directory = directory
        port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            _ = try runTool("/usr/bin/chown", ["postgres:postgres", directory])
        }
        _ = try runAsOwner("\(binaries)/initdb", ["-D", "\(directory)/data", "-U", Self.user, "--auth=trust", "-E", "UTF8", "--no-sync"])
    }

    /// Runs a PostgreSQL program as the cluster's owner (blocking: call off the pool).
    private func runAsOwner(_ executable: String, _ arguments: [String]) throws -> String {
        if getuid() == 0 {
            return try runTool("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        }
        return try runTool(executable, arguments)
    }

    func start() throws {
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(directory) -c fsync=off"
        // -w: returns once the server accepts connections (waiting up to -t seconds, generous under load).
        _ = try runAsOwner("\(binaries)/pg_ctl", ["-D", "\(directory)/data", "-l", "\(directory)/server.log", "-o", options, "-w", "-t", "300", "start"])
        running = true
    }

    func stop() throws {
        _ = try runAsOwner("\(binaries)/pg_ctl", ["-D", "\(directory)/data", "-m", "fast", "-w", "-t", "300", "stop"])
        running = false
    }

    /// Runs SQL in `database` with psql, stopping at the first error.
    func sql(_ statements: String, database: String = "postgres") throws -> String {
        try runTool("\(binaries)/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", Self.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-c", statements])
    }

    /// The environment that points libpq's programs (pg_dump) at this cluster.
    func environment(database: String) -> [String: String] {
        ["PGHOST": "127.0.0.1", "PGPORT": String(port), "PGUSER": Self.user, "PGDATABASE": database]
    }

    func close() {
        if running { try? stop() }
    }
}
