import Foundation
import HenTestSupport
import Testing

/// Issue 17's "done when": the configuration of DaemonEndToEndTests' daemon with one change, the
/// repository's `driver: restic` turned into `driver: borg`, and the real daemon backs up at start and on a
/// file change (schedule, watch), runs the backup's hooks, answers the API, browses and downloads, says
/// what a snapshot changed against its parent, runs a restore drill, raises the mass-deletion alarm and
/// holds the prune back until it is acknowledged, prunes by the retention policy and restores, all on borg
/// through hen-plugin-borg. The same scenario runs on rsync (hen-plugin-rsync), whose unencrypted
/// repositories take no password: that line goes too.
@Suite(.serialized) struct DaemonBorgEndToEndTests {
    static func configuration(driver: String, directory: String, port: Int, password: Bool = true) -> String {
        """
        hostname: e2e-host
        data_dir: \(directory)/data
        status_interval: 1s
        executables: { restic: \(Restic.path) }
        api:
          listen: 127.0.0.1:\(port)
          auth: { tokens: [\(DaemonEndToEndTests.Setup.token)] }
        restore: { allowed_targets: [\(directory)/restores] }
        repositories:
          local:
            driver: \(driver)
            location: \(directory)/repo\(password ? "\n    password_file: \(directory)/password" : "")
        backups:
          documents:
            paths: [\(directory)/source]
            schedules: [1w]
            watch: { latency: 1s, max_wait: 10s }
            retention: { keep_last: 1 }
            drill: { sample: 100% }
            alarm: { removed_over: 40%, protect: true }
            repositories: [local]
            hooks:
              after:
                - command: ["/bin/sh", "-c", "echo done >> \(directory)/hook.log"]

        """
    }

    @Test func changingTheDriverFromResticToBorgIsTheOnlyChangeNeeded() async throws {
        try await scenario(driver: "borg", expectedChanges: ["    driver: restic ->     driver: borg"])
    }

    /// rsync keeps plain files, so the password goes with the driver line; the rest of the configuration and
    /// everything the daemon does stay the same.
    @Test func switchingToRsyncChangesTheDriverAndDropsThePassword() async throws {
        try await scenario(driver: "rsync", password: false, expectedChanges: ["    driver: restic ->     driver: rsync"], expectedRemovals: ["    password_file:"])
    }

    func scenario(driver: String, password: Bool = true, expectedChanges: [String], expectedRemovals: [String] = []) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-\(driver)-e2e-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: "\(directory)/source/notes", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(directory)/restores", withIntermediateDirectories: true)
        try "buy eggs\n".write(toFile: "\(directory)/source/notes/todo.txt", atomically: true, encoding: .utf8)
        try "correct horse battery staple\n".write(toFile: "\(directory)/password", atomically: true, encoding: .utf8)
        let restic = Self.configuration(driver: "restic", directory: directory, port: port)
        let other = Self.configuration(driver: driver, directory: directory, port: port, password: password)
        // The one change: the driver's line (and for a driver without a password, the password's line gone).
        let resticLines = restic.split(separator: "\n").map(String.init)
        let removed = resticLines.filter { line in !other.split(separator: "\n").contains(Substring(line)) && !line.contains("driver:") }
        #expect(removed.map { String($0.prefix { $0 != "/" }) } == expectedRemovals.map { $0 + " " })
        let changed = zip(resticLines.filter { !removed.contains($0) }, other.split(separator: "\n").map(String.init)).filter { $0 != $1 }
        #expect(changed.map { "\($0.0) -> \($0.1)" } == expectedChanges)
        try other.write(toFile: "\(directory)/config.yml", atomically: true, encoding: .utf8)

        let daemon = try DaemonProcess(arguments: ["daemon", "--config", "\(directory)/config.yml"], logPath: "\(directory)/daemon.log")
        defer { daemon.close() }
        let auth = [("Authorization", "Bearer \(DaemonEndToEndTests.Setup.token)")]
        func get(_ target: String) throws -> RawHTTPResponse {
            guard let answer = try RawHTTP.request(port: port, "GET", target, headers: auth) else { throw DaemonTestError("no answer to GET \(target)") }
            return answer
        }
        func post(_ target: String, _ json: String) throws -> [String: Any] {
            guard let answer = try RawHTTP.json(port: port, "POST", target, headers: auth + [("Origin", "http://127.0.0.1:\(port)")], json: json) else {
                throw DaemonTestError("no answer to POST \(target)")
            }
            return (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? ["status": answer.status, "text": answer.text]
        }
        func jobs() throws -> [[String: Any]] {
            let answer = try? get("/api/v1/jobs")
            guard let answer, answer.status == 200 else { return [] }
            let object = try? JSONSerialization.jsonObject(with: answer.body)
            return (object as? [[String: Any]]) ?? ((object as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        }
        func waitFor(_ what: String, timeout: Double = 120, _ condition: () throws -> Bool) async throws {
            let deadline = Date().addingTimeInterval(timeout)
            while try !condition() {
                guard Date() < deadline else {
                    throw DaemonTestError("Waited \(timeout)s for \(what). Jobs: \((try? jobs()) ?? [])\n\(daemon.output.suffix(4_000))")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        func object(_ answer: RawHTTPResponse) throws -> [String: Any] {
            guard answer.status == 200, let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else {
                throw DaemonTestError("Not a JSON object: \(answer)")
            }
            return object
        }
        func jobID(_ answer: [String: Any]) throws -> String {
            guard let id = (answer["job"] as? [String: Any])?["id"] as? String else { throw DaemonTestError("Not a queued job: \(answer)") }
            return id
        }
        /// The job's record once it has finished.
        func finished(_ id: String) async throws -> [String: Any] {
            var record: [String: Any] = [:]
            try await waitFor("job \(id) to finish") {
                record = (try? object(get("/api/v1/jobs/\(id)"))) ?? [:]
                return ["succeeded", "warning", "failed", "cancelled", "timed_out", "interrupted"].contains(record["state"] as? String ?? "")
            }
            return record
        }
        func snapshotIDs() throws -> [String] {
            let items = try object(get("/api/v1/snapshots?refresh=1"))["items"] as? [[String: Any]] ?? []
            return items.compactMap { $0["id"] as? String }
        }
        func succeeded(_ operation: String, trigger: String? = nil) throws -> [[String: Any]] {
            try jobs().filter { job in
                job["operation"] as? String == operation && job["state"] as? String == "succeeded"
                    && (trigger == nil || "\(job["trigger"] ?? "")".contains(trigger!))
            }
        }

        // Schedule: the weekly schedule's first run at start, with its after hook.
        try await waitFor("the first backup") { try !succeeded("backup").isEmpty }
        try await waitFor("the after hook") { FileManager.default.fileExists(atPath: "\(directory)/hook.log") }
        // Watching: a changed file queues a backup.
        try "call the vet\n".write(toFile: "\(directory)/source/notes/monday.txt", atomically: false, encoding: .utf8)
        try await waitFor("a backup triggered by the watcher") { try !succeeded("backup", trigger: "watch").isEmpty }

        // API and browsing: the snapshots are the driver's, this host's, with the backup's tag.
        let listing = try get("/api/v1/snapshots?refresh=1")
        #expect(listing.status == 200, "\(listing)")
        let snapshots = ((try JSONSerialization.jsonObject(with: listing.body) as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(snapshots.count == 2, "\(listing.text)")
        let newest = try #require(snapshots.first?["id"] as? String, "\(listing.text)")
        #expect(newest.count == 64)
        let tree = try get("/api/v1/repositories/local/snapshots/\(newest)/tree?path=\(directory)/source/notes")
        #expect(tree.status == 200 && tree.text.contains("monday.txt"), "\(tree)")
        let download = try get("/api/v1/repositories/local/snapshots/\(newest)/download?path=\(directory)/source/notes/monday.txt")
        #expect(download.status == 200 && download.text == "call the vet\n", "\(download)")

        // What changed: the watcher's snapshot added monday.txt to its parent, the first one.
        let oldest = try #require(snapshots.last?["id"] as? String, "\(listing.text)")
        let diff = try object(get("/api/v1/repositories/local/snapshots/\(newest)/diff"))
        #expect((diff["against"] as? [String: Any])?["id"] as? String == oldest, "\(diff)")
        #expect(diff["added"] as? Int == 1 && diff["removed"] as? Int == 0 && diff["modified"] as? Int == 0, "\(diff)")
        let changes = (diff["items"] as? [[String: Any]] ?? []).map { "\($0["change"] ?? "") \($0["path"] ?? "")" }
        #expect(changes == ["added \(directory)/source/notes/monday.txt"], "\(diff)")
        let watched = try #require(try succeeded("backup", trigger: "watch").first)
        let counted = try #require((watched["results"] as? [[String: Any]])?.first)
        #expect(counted["parent_snapshot_id"] as? String == oldest && counted["files_added"] as? Int == 1 && counted["files_removed"] as? Int == 0, "\(counted)")
        #expect(counted["files_processed"] as? Int == 2, "\(counted)")
        if driver == "borg" {
            // borg's own file statuses follow its files cache: Hen records new/changed/unmodified as unknown.
            #expect(counted["files_new"] is NSNull && counted["files_changed"] is NSNull && counted["files_unmodified"] is NSNull, "\(counted)")
            let step = (watched["steps"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }.first { $0.hasPrefix("snapshot ") }
            #expect(step?.contains(": 2 files, ") == true && step?.contains(" new, ") == false, "\(watched)")
        } else {
            #expect(counted["files_new"] as? Int == 1 && counted["files_changed"] as? Int == 0 && counted["files_unmodified"] as? Int == 1, "\(counted)")
        }

        // A restore drill: both files restored from the newest snapshot and compared with their sources.
        let drill = try await finished(try jobID(post("/api/v1/backups/documents/drill", "{}")))
        #expect(drill["state"] as? String == "succeeded", "\(drill)")
        let drilled = (drill["results"] as? [[String: Any]])?.first?["drill"] as? [String: Any] ?? [:]
        #expect(drilled["snapshot_id"] as? String == newest && drilled["sampled"] as? Int == 2 && drilled["matched"] as? Int == 2 && drilled["differed"] as? Int == 0, "\(drill)")

        // The mass-deletion alarm: 1 of 2 files deleted (50 % > 40 %), the watcher's backup ends warning.
        try FileManager.default.removeItem(atPath: "\(directory)/source/notes/todo.txt")
        try await waitFor("the backup that raises the alarm") { try jobs().contains { $0["operation"] as? String == "backup" && $0["state"] as? String == "warning" } }
        let alarmed = try #require(try jobs().first { $0["operation"] as? String == "backup" && $0["state"] as? String == "warning" })
        #expect((alarmed["warnings"] as? [String] ?? []).contains { $0.contains("Mass-deletion alarm") && $0.contains("has 1 of") && $0.contains("2 files removed (50%)") }, "\(alarmed)")
        let alarm = try #require(try object(get("/api/v1/backups/documents"))["alarm"] as? [String: Any])
        #expect(alarm["removed"] as? Int == 1 && alarm["parent_files"] as? Int == 2, "\(alarm)")
        let latest = try #require(try snapshotIDs().first)

        // Retention: the alarm holds the prune back (three snapshots stay although keep_last is 1) until it
        // is acknowledged; then keep_last 1 leaves one snapshot.
        let held = try await finished(try jobID(post("/api/v1/backups/documents/prune", "{}")))
        #expect(held["state"] as? String == "warning" && (held["warnings"] as? [String] ?? []).contains { $0.contains("held back") }, "\(held)")
        #expect(try snapshotIDs().count == 3)
        let acknowledged = try post("/api/v1/backups/documents/alarm/ack", "{}")
        #expect((acknowledged["alarm"] as? [String: Any])?["acknowledged_at"] != nil, "\(acknowledged)")
        let prune = try await finished(try jobID(post("/api/v1/backups/documents/prune", "{}")))
        #expect(prune["state"] as? String == "succeeded", "\(prune)")
        #expect(try snapshotIDs() == [latest])

        // Restore into an allowed target.
        let restore = try await finished(try jobID(post("/api/v1/restores", #"{"repository": "local", "snapshot": "\#(latest)", "target": "\#(directory)/restores/today"}"#)))
        #expect(restore["state"] as? String == "succeeded", "\(restore)")
        let restored = try String(contentsOfFile: "\(directory)/restores/today\(directory)/source/notes/monday.txt", encoding: .utf8)
        #expect(restored == "call the vet\n")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/restores/today\(directory)/source/notes/todo.txt"))
        #expect(try jobs().allSatisfy { $0["state"] as? String != "failed" }, "\((try? jobs()) ?? [])")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "daemon output:\n\(daemon.output.suffix(4_000))")
    }
}
