import Foundation
import HenTestSupport
import Testing

/// Issue 17's "done when": the configuration of DaemonEndToEndTests' daemon with one change, the
/// repository's `driver: restic` turned into `driver: borg`, and the real daemon backs up at start and on a
/// file change (schedule, watch), runs the backup's hooks, answers the API, browses and downloads, prunes
/// by the retention policy and restores, all on borg through hen-plugin-borg. The same scenario runs on
/// rsync (hen-plugin-rsync), whose unencrypted repositories take no password: that line goes too.
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

        // Retention: keep_last 1 leaves one snapshot.
        let prune = try post("/api/v1/backups/documents/prune", "{}")
        #expect((prune["job"] as? [String: Any])?["id"] != nil, "\(prune)")
        try await waitFor("the prune") { try !succeeded("prune").isEmpty }
        let after = try get("/api/v1/snapshots?refresh=1")
        let remaining = ((try JSONSerialization.jsonObject(with: after.body) as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(remaining.compactMap { $0["id"] as? String } == [newest], "\(after.text)")

        // Restore into an allowed target.
        let restore = try post("/api/v1/restores", #"{"repository": "local", "snapshot": "\#(newest)", "target": "\#(directory)/restores/today"}"#)
        #expect((restore["job"] as? [String: Any])?["id"] != nil, "\(restore)")
        try await waitFor("the restore") { try !succeeded("restore").isEmpty }
        let restored = try String(contentsOfFile: "\(directory)/restores/today\(directory)/source/notes/monday.txt", encoding: .utf8)
        #expect(restored == "call the vet\n")
        #expect(try jobs().allSatisfy { $0["state"] as? String != "failed" }, "\((try? jobs()) ?? [])")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "daemon output:\n\(daemon.output.suffix(4_000))")
    }
}
