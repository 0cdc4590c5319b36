import Foundation
import HenDrivers
import HenEngine
import HenServer
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing
import HenTestSupport

/// `/metrics` and `/api/v1/health` against a real engine (tar driver) on a temporary data directory.
@Suite struct MonitoringRoutesTests {
    /// A temporary directory with a configuration, removed by `remove()`.
    struct Sandbox {
        let root: String
        let configuration: Configuration

        init(_ yaml: String) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-monitor-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: root + "/data/documents/sub", withIntermediateDirectories: true)
            try "alpha\n".write(toFile: root + "/data/documents/a.txt", atomically: true, encoding: .utf8)
            try String(repeating: "beta\n", count: 500).write(toFile: root + "/data/documents/sub/b.txt", atomically: true, encoding: .utf8)
            let loader = ConfigurationLoader(environment: [:], defaultHostname: "testhost", defaultTimeZone: TimeZone(identifier: "UTC")!)
            configuration = try loader.load(yaml: yaml, file: "config.yml", sourcePath: root + "/config.yml")
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    /// A wall clock the test moves.
    final class TestTime: Sendable {
        private let date = Mutex(Date())
        var now: Date { date.withLock { $0 } }
        func advance(by seconds: TimeInterval) { date.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static let yaml = """
        hostname: testhost
        data_dir: ./state
        api: { listen: "127.0.0.1:18420" }
        repositories:
          disk: { driver: tar, location: ./repos/disk }
        backups:
          documents:
            paths: [./data/documents]
            repositories: [disk]
            schedules: [1h]
        """

    static let logger = Logger(label: "hen.test") { _ in SwiftLogNoOpLogHandler() }

    func makeEngine(_ sandbox: Sandbox, registry: PrometheusCollectorRegistry, time: TestTime = TestTime()) throws -> Engine {
        let store = try JobStore(dataDirectory: sandbox.configuration.dataDirectory)
        return Engine(
            configuration: sandbox.configuration, registry: .standard, store: store, now: { time.now }, logger: Self.logger,
            metrics: MonitoringRoutes.makeMetricsFactory(registry: registry)
        )
    }

    func metrics(_ client: some TestClientProtocol) async throws -> PrometheusText {
        try await client.execute(uri: "/metrics", method: .get) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            return try PrometheusText(String(buffer: response.body))
        }
    }

    func backup(_ engine: Engine) async throws -> JobRecord {
        let record = try await engine.submit(JobRequest(operation: .backup(backup: "documents", repositories: nil), trigger: .api))
        return try await engine.waitForCompletion(jobID: record.id)
    }

    @Test func metricsMoveAsJobsRunAndLastSuccessSurvivesARestart() async throws {
        let sandbox = try Sandbox(Self.yaml)
        defer { sandbox.remove() }
        let engine = try makeEngine(sandbox, registry: PrometheusCollectorRegistry())
        let app = try buildApplication(engine: engine, configuration: sandbox.configuration, logger: Self.logger)
        let second = try await app.test(.router) { client in
            let before = try await metrics(client)
            #expect(try before.value("hen_jobs_total", ["operation": "backup", "outcome": "succeeded"]) == nil)

            let first = try await backup(engine)
            #expect(first.state == .succeeded)
            let afterOne = try await metrics(client)
            #expect(afterOne.types["hen_jobs_total"] == "counter")
            #expect(afterOne.types["hen_job_duration_seconds"] == "histogram")
            #expect(try afterOne.value("hen_jobs_total", ["operation": "backup", "outcome": "succeeded"]) == 1)
            #expect(try afterOne.value("hen_job_duration_seconds_count", ["operation": "backup"]) == 1)
            #expect(try afterOne.value("hen_job_duration_seconds_bucket", ["operation": "backup", "le": "+Inf"]) == 1)
            let lastSuccess = try #require(try afterOne.value("hen_backup_last_success_timestamp_seconds", ["backup": "documents", "repository": "disk"]))
            #expect(abs(lastSuccess - first.endedAt!.timeIntervalSince1970) < 0.01)
            #expect(try afterOne.value("hen_backup_last_snapshot_timestamp_seconds", ["backup": "documents", "repository": "disk"]) == lastSuccess)
            #expect(try afterOne.value("hen_backup_files_processed_total", ["backup": "documents"]) == 2)
            #expect(try afterOne.value("hen_backup_bytes_added_total", ["backup": "documents"]) ?? 0 > 0)
            #expect(try afterOne.value("hen_queue_length") == 0)
            #expect(try afterOne.value("hen_jobs_running") == 0)
            #expect(try afterOne.value("hen_repository_last_job_ok", ["repository": "disk"]) == 1)
            // The snapshot count is taken in the background after the job.
            var snapshots: Double?
            for _ in 0..<500 {
                snapshots = try await metrics(client).value("hen_repository_snapshots", ["repository": "disk"])
                if snapshots == 1 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(snapshots == 1)
            #expect(afterOne.samples.allSatisfy { $0.labels["job_id"] == nil && $0.labels["job"] == nil })

            let second = try await backup(engine)
            let afterTwo = try await metrics(client)
            #expect(try afterTwo.value("hen_jobs_total", ["operation": "backup", "outcome": "succeeded"]) == 2)
            #expect(try afterTwo.value("hen_job_duration_seconds_count", ["operation": "backup"]) == 2)
            #expect(try afterTwo.value("hen_backup_files_processed_total", ["backup": "documents"]) == 4)
            #expect(try afterTwo.value("hen_backup_last_success_timestamp_seconds", ["backup": "documents", "repository": "disk"])! >= lastSuccess)
            return second
        }
        await engine.shutdown(grace: .zero)

        // A restarted daemon: a new engine and registry on the same data directory.
        let restarted = try makeEngine(sandbox, registry: PrometheusCollectorRegistry())
        _ = try await restarted.recover()
        let restartedApp = try buildApplication(engine: restarted, configuration: sandbox.configuration, logger: Self.logger)
        try await restartedApp.test(.router) { client in
            let text = try await metrics(client)
            let lastSuccess = try #require(try text.value("hen_backup_last_success_timestamp_seconds", ["backup": "documents", "repository": "disk"]))
            #expect(abs(lastSuccess - second.endedAt!.timeIntervalSince1970) < 0.01)
            #expect(try text.value("hen_daemon_info", ["hostname": "testhost", "mode": "normal", "version": HenVersion.current]) == 1)
            #expect(try text.value("hen_jobs_total", ["operation": "backup", "outcome": "succeeded"]) == nil)
        }
        await restarted.shutdown(grace: .zero)
    }

    @Test func healthIsOKUntilStrictFindsAnOverdueBackupAndDownAfterShutdown() async throws {
        let sandbox = try Sandbox(Self.yaml)
        defer { sandbox.remove() }
        let time = TestTime()
        let engine = try makeEngine(sandbox, registry: PrometheusCollectorRegistry(), time: time)
        let app = try buildApplication(engine: engine, configuration: sandbox.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(body?["status"] as? String == "ok")
            }
            let record = try await backup(engine)
            #expect(record.state == .succeeded)
            // 1h schedule: 1.5h after the last success is late but not overdue; 2.5h is.
            time.advance(by: 5_400)
            try await client.execute(uri: "/api/v1/health?strict=1", method: .get) { response in
                #expect(response.status == .ok)
            }
            // GET /status carries the same problems (the web UI marks them): none yet.
            try await client.execute(uri: "/api/v1/status", method: .get) { response in
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                #expect((body["problems"] as? [Any])?.isEmpty == true, "\(body)")
            }
            time.advance(by: 3_600)
            try await client.execute(uri: "/api/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                let problems = try #require(body["problems"] as? [[String: Any]])
                #expect(problems.map { $0["kind"] as? String } == ["backup_overdue"])
                #expect(problems.first?["subject"] as? String == "documents")
            }
            try await client.execute(uri: "/api/v1/health?strict=1", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                #expect(body["status"] as? String == "degraded")
                let error = try #require(body["error"] as? [String: Any])
                #expect(error["code"] as? String == "degraded")
                #expect((error["message"] as? String)?.contains("Backup documents last succeeded 2h ago") == true, "\(error)")
                let problems = try #require(body["problems"] as? [[String: Any]])
                #expect(problems.map { $0["kind"] as? String } == ["backup_overdue"])
                #expect(problems.first?["subject"] as? String == "documents")
            }
            // Not strict: an overdue backup does not make the daemon unhealthy.
            try await client.execute(uri: "/api/v1/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            await engine.shutdown(grace: .zero)
            try await client.execute(uri: "/api/v1/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                let error = try #require(body["error"] as? [String: Any])
                #expect(error["code"] as? String == "unavailable")
            }
        }
    }

    /// A job store that no longer reads (its table dropped behind the daemon's back) makes health 503.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
    func aBrokenJobStoreMakesHealthDown() async throws {
        let sandbox = try Sandbox(Self.yaml)
        defer { sandbox.remove() }
        let engine = try makeEngine(sandbox, registry: PrometheusCollectorRegistry())
        let app = try buildApplication(engine: engine, configuration: sandbox.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/api/v1/health", method: .get).status == .ok)
            _ = try await offPool { try runTool("/usr/bin/sqlite3", [engine.store.path, "DROP TABLE job;"]) }
            try await client.execute(uri: "/api/v1/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                let error = try #require(body["error"] as? [String: Any])
                #expect(error["code"] as? String == "unavailable")
                #expect((error["message"] as? String)?.contains("job") == true, "\(error)")
            }
        }
    }

    @Test func aFailingRepositoryShowsInStrictHealthAndMetrics() async throws {
        let sandbox = try Sandbox("""
            hostname: testhost
            data_dir: ./state
            api: { listen: "127.0.0.1:18420" }
            repositories:
              disk: { driver: tar, location: ./repos/disk }
              missing: { driver: tar, location: ./repos/missing, auto_init: false }
            backups:
              documents:
                paths: [./data/documents]
                repositories: [disk, missing]
                hooks:
                  failure:
                    - command: ["/bin/false"]
                      on_failure: continue
            """)
        defer { sandbox.remove() }
        let registry = PrometheusCollectorRegistry()
        let engine = try await Engine.open(
            configuration: sandbox.configuration, registry: .standard, logger: Self.logger, metrics: MonitoringRoutes.makeMetricsFactory(registry: registry)
        )
        let app = try buildApplication(engine: engine, configuration: sandbox.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            let record = try await backup(engine)
            #expect(record.state == .failed)
            let text = try await metrics(client)
            #expect(try text.value("hen_jobs_total", ["operation": "backup", "outcome": "failed"]) == 1)
            #expect(try text.value("hen_repository_last_job_ok", ["repository": "missing"]) == 0)
            #expect(try text.value("hen_repository_last_job_ok", ["repository": "disk"]) == 1)
            #expect(try text.value("hen_hook_failures_total", ["backup": "documents", "phase": "failure"]) == 1)
            // A failed job is no success: only the repository that took the snapshot has a last-snapshot time.
            #expect(try text.value("hen_backup_last_success_timestamp_seconds", ["backup": "documents", "repository": "disk"]) == nil)
            #expect(try text.value("hen_backup_last_snapshot_timestamp_seconds", ["backup": "documents", "repository": "disk"]) != nil)

            try await client.execute(uri: "/api/v1/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/health?strict=1", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                let problems = try #require(body["problems"] as? [[String: Any]])
                #expect(problems.map { $0["kind"] as? String } == ["repository_failed"])
                #expect(problems.first?["subject"] as? String == "missing")
            }
        }
        await engine.shutdown(grace: .zero)
    }
}
