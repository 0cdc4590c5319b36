import Foundation
import GRDB
import HenDrivers
import HenJSON
import Synchronization
import Testing
@testable import HenEngine

@Suite struct JobStoreTests {
    private func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    private func record(_ id: String, _ operation: JobOperation, state: JobState, at seconds: Double) -> JobRecord {
        JobRecord(
            id: id, request: operation, trigger: .schedule("every 1h"), priority: .level(7), state: state, repositories: ["local"],
            queuedAt: Date(timeIntervalSince1970: seconds), startedAt: state == .queued ? nil : Date(timeIntervalSince1970: seconds + 1),
            endedAt: state.isFinished ? Date(timeIntervalSince1970: seconds + 2) : nil
        )
    }

    @Test func recordsRoundTripAndFilterNewestFirst() async throws {
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(dataDirectory: directory)
        #expect(FileManager.default.fileExists(atPath: "\(directory)/jobs.sqlite"))
        var full = record("a", .backup(backup: "documents", repositories: ["local"]), state: .warning, at: 100)
        full.steps = [JobStep(id: "backup:local", name: "backup to local", repository: "local", state: .warning, startedAt: Date(timeIntervalSince1970: 101), message: "done")]
        full.progress = .init(fraction: 0.5, filesDone: 3)
        full.warnings = ["w"]
        full.error = nil
        full.results = [RepositoryResult(repository: "local", snapshotID: "abc", bytesAdded: 5)]
        for index in 0..<(JobRecord.maximumLogLines + 20) {
            full.appendLog(JobLogLine(time: Date(timeIntervalSince1970: 100), level: .info, message: "line \(index)"))
        }
        try await store.save(full)
        try await store.save(record("b", .prune(backup: "documents"), state: .failed, at: 200))
        try await store.save(record("c", .check(repository: "local", readDataSubset: "5%"), state: .queued, at: 300))
        try await store.save(record("d", .backup(backup: "pictures", repositories: nil), state: .succeeded, at: 400))

        let loaded = try #require(try await store.record(id: "a"))
        #expect(loaded == full)
        #expect(loaded.log.count == JobRecord.maximumLogLines)
        #expect(loaded.log.first?.message == "line 20")
        #expect(try await store.records(JobFilter()).map(\.id) == ["d", "c", "b", "a"])
        #expect(try await store.records(JobFilter(limit: 2)).map(\.id) == ["d", "c"])
        #expect(try await store.records(JobFilter(backup: "documents")).map(\.id) == ["b", "a"])
        #expect(try await store.records(JobFilter(states: [.failed, .queued])).map(\.id) == ["c", "b"])
        #expect(try await store.records(JobFilter(operation: .check)).map(\.id) == ["c"])
        #expect(try await store.lastRun(operation: .backup, target: "documents") == Date(timeIntervalSince1970: 101))
        #expect(try await store.lastRun(operation: .backup, target: "nothing") == nil)

        // A second connection (another process) sees the same, and opening again does not migrate twice.
        let again = try JobStore(dataDirectory: directory)
        #expect(try await again.count() == 4)
    }

    /// The list reads every column but the log: each summary equals the full record's `summary`, with the
    /// same filters, order and cursor.
    @Test func summariesEqualTheFullRecordsSummaries() async throws {
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(dataDirectory: directory)
        for index in 0..<30 {
            let state: JobState = [.succeeded, .warning, .failed, .queued, .running][index % 5]
            var full = record(String(format: "job-%02d", index), index % 3 == 0 ? .prune(backup: "documents") : .backup(backup: "documents", repositories: ["local"]), state: state, at: Double(1000 + index / 2))
            full.steps = [JobStep(id: "backup:local", name: "backup to local", repository: "local", state: .succeeded, startedAt: Date(timeIntervalSince1970: 1001), endedAt: Date(timeIntervalSince1970: 1002.25), message: "step \(index)")]
            full.progress = index % 2 == 0 ? .init(fraction: 0.25, filesDone: UInt64(index), currentFiles: ["/a/\(index)"]) : nil
            full.lastReportAt = Date(timeIntervalSince1970: 1003.5)
            full.warnings = index % 4 == 0 ? ["warning \(index)"] : []
            full.error = state == .failed ? "Repository \"local\": it failed." : nil
            full.results = [RepositoryResult(repository: "local", snapshotID: String(repeating: "ab", count: 32), filesNew: UInt64(index), bytesAdded: 5)]
            for line in 0..<(index * 7) {
                full.appendLog(JobLogLine(time: Date(timeIntervalSince1970: 1000.125), level: .info, message: "line \(line)"))
            }
            try await store.save(full)
        }
        let twenty = try #require(try await store.record(id: "job-20"))
        let filters = [
            JobFilter(limit: 100), JobFilter(limit: 7), JobFilter(states: [.failed, .running], limit: 100), JobFilter(operation: .prune, limit: 100),
            JobFilter(backup: "documents", limit: 3), JobFilter(limit: 100, after: JobFilter.Cursor(after: twenty)),
        ]
        for filter in filters {
            let full = try await store.records(filter)
            let summaries = try await store.summaries(filter)
            #expect(!summaries.isEmpty)
            #expect(summaries == full.map(\.summary))
            #expect(summaries.allSatisfy { $0.log.isEmpty })
        }
        #expect(try await store.record(id: "job-29")?.log.count == min(29 * 7, JobRecord.maximumLogLines))
    }

    /// A backup's newest jobs of one operation (the stored metrics, the last drill at start) and whether an
    /// operation is queued or running (the planner) are found through indexes, not by reading every row
    /// of the backup and sorting them.
    @Test func startUpQueriesUseTheirIndexes() async throws {
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try JobStore(dataDirectory: directory)
        let queue = try DatabaseQueue(path: directory + "/jobs.sqlite")
        let plans = try await queue.read { db in
            try [
                "SELECT * FROM job WHERE state IN ('succeeded', 'failed') AND backup = 'b' AND operation = 'drill' ORDER BY queued_at DESC, id DESC LIMIT 1",
                "SELECT MAX(COALESCE(started_at, queued_at)) FROM job WHERE operation = 'backup' AND target = 'b' AND state IN ('queued', 'running')",
            ].map { sql in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; ") }
        }
        #expect(plans[0].contains("job_by_backup_operation_queued_at") && !plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[1].contains("job_by_operation_target_state"), "\(plans[1])")
    }

    @Test func requestsUseTheAPISpellingAndOldStoresAreMigrated() async throws {
        let check = JobOperation.check(repository: "usb", readDataSubset: "5%")
        // The spelling is HenJSON's convention, which the store writes with.
        let text = try HenJSON.encoder().string(check)
        #expect(text.contains(#""read_data_subset":"5%""#) && !text.contains("readDataSubset"))
        #expect(try HenJSON.encoder().string(JobOperation.initialize(repository: "usb")) == #"{"init":{"repository":"usb"}}"#)

        // A store written by the first schema, with requests in the Swift spelling it used then.
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/jobs.sqlite"
        let queue = try DatabaseQueue(path: path)
        try JobStore.migrator.migrate(queue, upTo: "v1")
        try await queue.write { db in
            for (id, request, operation) in [
                ("old-check", #"{"check":{"repository":"usb","readDataSubset":"10%"}}"#, "check"),
                ("old-init", #"{"initialize":{"repository":"usb"}}"#, "init"),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO job (id, operation, target, request, trigger, priority, state, repositories, queued_at, steps, warnings, results, log)
                        VALUES (?, ?, 'usb', ?, '{"kind":"cli"}', 'normal', 'succeeded', '["usb"]', 100, '[]', '[]', '[]', '[]')
                        """,
                    arguments: [id, operation, request]
                )
            }
        }
        try queue.close()
        let store = try JobStore(path: path)
        #expect(try await store.record(id: "old-check")?.request == .check(repository: "usb", readDataSubset: "10%"))
        #expect(try await store.record(id: "old-init")?.request == .initialize(repository: "usb"))
    }

    /// Rows written before HenJSON's convention: optional keys left out, progress in Foundation's camelCase,
    /// dates as seconds since 1970. They read as they were written; a record saved again reads the same.
    @Test func rowsWrittenBeforeTheJSONConventionStillRead() async throws {
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/jobs.sqlite"
        let queue = try DatabaseQueue(path: path)
        try JobStore.migrator.migrate(queue)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO job (id, operation, target, backup, request, trigger, priority, state, repositories, queued_at, started_at, steps, progress, warnings, results, log)
                    VALUES ('old', 'backup', 'documents', 'documents', '{"backup":{"backup":"documents"}}', '{"kind":"schedule","schedule":"every 1h"}',
                        'normal', 'running', '["local"]', 100, 101,
                        '[{"id":"hook:before:0","name":"hook before","state":"succeeded","started_at":101.25,"hook":{"phase":"before","policy":"break","exit_code":0,"attempts":1,"timed_out":false,"output":"","output_truncated":false}},{"id":"backup:local","name":"backup to local","repository":"local","state":"running"}]',
                        '{"fraction":0.5,"filesDone":3,"currentFiles":["/a"]}', '[]',
                        '[{"repository":"local","snapshot_id":"abc","bytes_added":5}]',
                        '[{"time":101.5,"level":"info","message":"run: restic backup"}]')
                    """
            )
        }
        try queue.close()
        let store = try JobStore(path: path)
        let record = try #require(try await store.record(id: "old"))
        #expect(record.request == .backup(backup: "documents", repositories: nil))
        #expect(record.steps.map(\.id) == ["hook:before:0", "backup:local"])
        #expect(record.steps[0].startedAt == Date(timeIntervalSince1970: 101.25))
        #expect(record.steps[0].hook?.exitCode == 0 && record.steps[0].hook?.httpStatus == nil)
        #expect(record.steps[1].repository == "local" && record.steps[1].message == nil)
        #expect(record.progress == HenDrivers.Progress(fraction: 0.5, filesDone: 3, currentFiles: ["/a"]))
        #expect(record.results == [RepositoryResult(repository: "local", snapshotID: "abc", bytesAdded: 5)])
        #expect(record.log.first?.time == Date(timeIntervalSince1970: 101.5))
        try await store.save(record)
        #expect(try await store.record(id: "old") == record)
    }

    /// A daemon and a CLI opening a new store at the same moment both migrate it: they take turns, and
    /// neither fails with "table job already exists".
    @Test func storesOpenedTogetherOnANewDataDirectoryAllMigrate() throws {
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do { _ = try JobStore(dataDirectory: directory) } catch { failures.withLock { $0.append("\(error)") } }
        }
        #expect(failures.withLock { $0 }.isEmpty)
    }

    @Test func historyRetentionKeepsRecentAndBoundedRecordsButNeverActiveOnes() async throws {
        let directory = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(dataDirectory: directory)
        for index in 0..<10 {
            try await store.save(record("old\(index)", .backup(backup: "documents", repositories: nil), state: .succeeded, at: Double(index)))
        }
        for index in 0..<10 {
            try await store.save(record("new\(index)", .backup(backup: "documents", repositories: nil), state: .failed, at: 1_000 + Double(index)))
        }
        try await store.save(record("queued", .backup(backup: "pictures", repositories: nil), state: .queued, at: 0))
        try await store.save(record("running", .backup(backup: "music", repositories: nil), state: .running, at: 0))
        // Older than 500: the ten old ones; beyond the newest 6 finished: four more.
        let deleted = try await store.enforceRetention(endedBefore: Date(timeIntervalSince1970: 500), maxJobs: 6)
        #expect(deleted == 14)
        let left = try await store.records(JobFilter(limit: 100)).map(\.id).sorted()
        #expect(left == ["new4", "new5", "new6", "new7", "new8", "new9", "queued", "running"])
        let interrupted = try await store.markRunningInterrupted(at: Date(timeIntervalSince1970: 2_000), reason: "crashed")
        #expect(interrupted.map(\.id) == ["running"])
        #expect(try await store.record(id: "running")?.state == .interrupted)
        #expect(try await store.record(id: "running")?.error == "crashed")
    }
}
