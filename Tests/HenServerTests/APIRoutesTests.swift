import Foundation
import HenDrivers
import HenProcess
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import HenEngine
@testable import HenServer

/// Every route of the API in-process (`app.test(.router)`), on a real restic repository holding a snapshot of
/// this host and one of another host (``RouteFixture``): happy paths, each error, auth, read-only mode,
/// confinement and reload.
@Suite struct APIRoutesTests {
    static let logger = Logger(label: "hen.test")

    @Test func statusBackupsAndRepositoriesDescribeTheDaemonWithoutSecrets() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            let status = try json(try await client.execute(uri: "/api/v1/status", method: .get))
            #expect(status["hostname"] as? String == "testhost")
            #expect(status["mode"] as? String == "normal")
            #expect(status["version"] as? String == HenVersion.current)
            #expect(status["queued"] is [Any] && status["running"] is [Any] && status["next_runs"] is [Any] && status["watchers"] is [Any])

            let backups = try json(try await client.execute(uri: "/api/v1/backups", method: .get))
            let items = try #require(backups["items"] as? [[String: Any]])
            #expect(items.map { $0["name"] as? String } == ["documents"])
            #expect(backups["next_cursor"] is NSNull)
            try await expectError(client, "/api/v1/backups?cursor=zz", status: .badRequest)
            // Exactly openapi.json's OffsetCursor: decimal digits, at most 18, no sign.
            try await expectError(client, "/api/v1/backups?cursor=%2B1", status: .badRequest)
            try await expectError(client, "/api/v1/repositories?cursor=1234567890123456789", status: .badRequest)
            #expect(try json(try await client.execute(uri: "/api/v1/repositories?cursor=123456789012345678", method: .get))["items"] as? [Any] != nil)
            try await expectError(client, "/api/v1/backups?limit=0", status: .badRequest)

            let detailResponse = try await client.execute(uri: "/api/v1/backups/documents", method: .get)
            #expect(detailResponse.status == .ok)
            let detail = try json(detailResponse)
            let definition = try #require(detail["definition"] as? [String: Any])
            #expect(definition["paths"] as? [String] == [site.root + "/src"])
            let latest = try #require(detail["latest_snapshots"] as? [[String: Any]])
            #expect(latest.first?["repository"] as? String == "local")
            #expect((latest.first?["snapshot"] as? [String: Any])?["id"] as? String == site.mine)
            try await expectError(client, "/api/v1/backups/pictures", status: .notFound, naming: "pictures")

            let repositories = try json(try await client.execute(uri: "/api/v1/repositories", method: .get))
            #expect((repositories["items"] as? [[String: Any]])?.first?["name"] as? String == "local")
            #expect((repositories["items"] as? [[String: Any]])?.first?["backups"] as? [String] == ["documents"])
            let repositoryResponse = try await client.execute(uri: "/api/v1/repositories/local", method: .get)
            let repositoryText = String(decoding: Array(repositoryResponse.body.readableBytesView), as: UTF8.self)
            #expect(!repositoryText.contains(RouteFixture.password))
            let repository = try json(repositoryResponse)
            #expect((repository["definition"] as? [String: Any])?["password"] as? String == "***")
            let stats = try #require(repository["stats"] as? [String: Any])
            // Confinement: the other host's snapshot is not counted.
            #expect(stats["snapshot_count"] as? Int == 1)
            #expect((stats["latest_snapshot"] as? [String: Any])?["id"] as? String == site.mine)
            try await expectError(client, "/api/v1/repositories/ovh", status: .notFound, naming: "ovh")

            let config = try await client.execute(uri: "/api/v1/config", method: .get)
            let yaml = String(decoding: Array(config.body.readableBytesView), as: UTF8.self)
            #expect(config.status == .ok)
            #expect(yaml.contains("password: '***'"), "\(yaml)")
            #expect(!yaml.contains(RouteFixture.password))
        }
    }

    @Test func jobsAreQueuedListedFollowedAndCancelledOverHTTP() async throws {
        let site = try await RouteFixture(retention: RetentionPolicy(keepLast: 5))
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        let engine = site.engine
        try await app.test(.router) { client in
            func post(_ uri: String, _ body: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
                var fields = headers
                fields[.contentType] = "application/json"
                return try await client.execute(uri: uri, method: .post, headers: fields, body: body.map { ByteBuffer(string: $0) })
            }
            // A check holds the repository; the two backups behind it are one queued job.
            let check = try await post("/api/v1/repositories/local/check")
            #expect(check.status == .accepted)
            let checkID = try #require((try json(check)["job"] as? [String: Any])?["id"] as? String)
            let first = try await post("/api/v1/backups/documents/backup", #"{"priority": "inferior"}"#, headers: [HTTPField.Name("X-Hen-Client")!: "cli"])
            #expect(first.status == .accepted)
            let firstJob = try #require(try json(first)["job"] as? [String: Any])
            #expect((firstJob["trigger"] as? [String: Any])?["kind"] as? String == "cli")
            let second = try await post("/api/v1/backups/documents/backup", #"{"priority": "superior"}"#)
            let secondJob = try #require(try json(second)["job"] as? [String: Any])
            #expect(secondJob["id"] as? String == firstJob["id"] as? String)
            #expect(secondJob["priority"] as? String == "superior")
            let backupID = try #require(firstJob["id"] as? String)

            #expect(try await post("/api/v1/backups/pictures/backup").status == .notFound)
            #expect(try await post("/api/v1/backups/documents/backup", #"{"repositories": ["ovh"]}"#).status == .unprocessableContent)
            #expect(try await post("/api/v1/backups/documents/backup", #"{"priority": "urgent"}"#).status == .unprocessableContent)
            #expect(try await post("/api/v1/backups/documents/backup", #"{"priority": "#).status == .badRequest)
            #expect(try await post("/api/v1/backups/documents/prune", #"{"repositories": ["local"]}"#).status == .unprocessableContent)
            #expect(try await post("/api/v1/repositories/ovh/check").status == .notFound)
            #expect(try await post("/api/v1/repositories/local/check", #"{"read_data_subset": "banana"}"#).status == .unprocessableContent)
            #expect(try await post("/api/v1/repositories/local/check", #"{"read_data_subset": "500%"}"#).status == .unprocessableContent)
            // An unlock reads no data: a read_data_subset is refused, not silently ignored.
            #expect(try await post("/api/v1/repositories/local/unlock", #"{"read_data_subset": "5%"}"#).status == .unprocessableContent)

            let checked = try await engine.waitForCompletion(jobID: checkID)
            #expect(checked.state == .succeeded, "\(checked.warnings) \(checked.log.map(\.message))")
            #expect(try await engine.waitForCompletion(jobID: backupID).state == .succeeded)
            let prune = try await post("/api/v1/backups/documents/prune")
            #expect(prune.status == .accepted)
            let pruneID = try #require((try json(prune)["job"] as? [String: Any])?["id"] as? String)
            #expect(try await engine.waitForCompletion(jobID: pruneID).state == .succeeded)
            let unlock = try await post("/api/v1/repositories/local/unlock")
            let unlockID = try #require((try json(unlock)["job"] as? [String: Any])?["id"] as? String)
            #expect(try await engine.waitForCompletion(jobID: unlockID).state == .succeeded)

            // Listing: newest first, paged by an opaque cursor, filtered.
            let page1 = try json(try await client.execute(uri: "/api/v1/jobs?limit=2", method: .get))
            let ids1 = try #require(page1["items"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(ids1 == [unlockID, pruneID])
            let cursor = try #require(page1["next_cursor"] as? String)
            let page2 = try json(try await client.execute(uri: "/api/v1/jobs?limit=2&cursor=\(cursor)", method: .get))
            #expect(try #require(page2["items"] as? [[String: Any]]).compactMap { $0["id"] as? String } == [backupID, checkID])
            #expect(page2["next_cursor"] is NSNull)
            let backups = try json(try await client.execute(uri: "/api/v1/jobs?operation=backup&state=succeeded,warning&backup=documents", method: .get))
            #expect((backups["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [backupID])
            try await expectError(client, "/api/v1/jobs?state=sleeping", status: .badRequest, naming: "sleeping")
            try await expectError(client, "/api/v1/jobs?state=failed,", status: .badRequest)
            try await expectError(client, "/api/v1/jobs?operation=dance", status: .badRequest, naming: "dance")
            try await expectError(client, "/api/v1/jobs?cursor=%%%", status: .badRequest)
            // An empty parameter is an absent one (as forms and generated clients send them).
            let unfiltered = try json(try await client.execute(uri: "/api/v1/jobs?state=&cursor=&backup=", method: .get))
            #expect((unfiltered["items"] as? [Any])?.count == 4)
            try await expectError(client, "/api/v1/health?strict=maybe", status: .badRequest, naming: "strict")

            let record = try json(try await client.execute(uri: "/api/v1/jobs/\(backupID)", method: .get))
            #expect(record["state"] as? String == "succeeded")
            #expect((record["log"] as? [Any])?.isEmpty == false)
            try await expectError(client, "/api/v1/jobs/20990101-000000-000-dead", status: .notFound, naming: "20990101-000000-000-dead")
            let late = try await post("/api/v1/jobs/\(backupID)/cancel")
            #expect(late.status == .conflict)
            #expect(try await post("/api/v1/jobs/20990101-000000-000-dead/cancel").status == .notFound)

            // A finished job's event stream replays its steps and log, ends with its state, and closes.
            let events = try await client.execute(uri: "/api/v1/jobs/\(backupID)/events", method: .get)
            #expect(events.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            let frames = try sseFrames(events)
            #expect(frames.first?.type == "step_ended")
            #expect(frames.contains { $0.type == "log" })
            #expect(frames.last?.type == "state" && (frames.last?.data["state"] as? String) == "succeeded")
            try await expectError(client, "/api/v1/jobs/20990101-000000-000-dead/events", status: .notFound)
        }
    }

    @Test func aQueuedJobIsCancelledOverHTTP() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            let check = try json(try await client.execute(uri: "/api/v1/repositories/local/check", method: .post))
            let checkID = try #require((check["job"] as? [String: Any])?["id"] as? String)
            let backup = try json(try await client.execute(uri: "/api/v1/backups/documents/backup", method: .post))
            let backupID = try #require((backup["job"] as? [String: Any])?["id"] as? String)
            let cancelled = try await client.execute(uri: "/api/v1/jobs/\(backupID)/cancel", method: .post)
            #expect(cancelled.status == .ok)
            #expect((try json(cancelled)["job"] as? [String: Any])?["state"] as? String == "cancelled")
            _ = try await site.engine.waitForCompletion(jobID: checkID)
        }
    }

    @Test func aReloadWithABrokenFileIsRefusedWithItsErrorsAndAGoodOneApplies() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        let path = site.configuration.sourcePath
        let root = site.root
        @Sendable func yaml(_ extra: String) -> String {
            """
            hostname: testhost
            data_dir: \(root)/data
            \(extra)
            repositories:
              local: { location: \(root)/repo, password: "\(RouteFixture.password)" }
            backups:
              documents:
                paths: [\(root)/src]
                repositories: [local]
            restore: { allowed_targets: [\(root)/restores] }
            """
        }
        try await app.test(.router) { client in
            try yaml("max_concurrent_jobs: 0").write(toFile: path, atomically: true, encoding: .utf8)
            let refused = try await client.execute(uri: "/api/v1/config/reload", method: .post)
            #expect(refused.status == .unprocessableContent)
            let error = try #require(try json(refused)["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_config")
            let details = try #require(error["details"] as? [[String: Any]])
            #expect(details.first?["key_path"] as? String == "max_concurrent_jobs")
            #expect(details.first?["line"] as? Int == 3)
            #expect(site.engine.configuration.maxConcurrentJobs == 1)

            try yaml("max_concurrent_jobs: 3\nhostname_note_is_not_a_key: 1").write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await client.execute(uri: "/api/v1/config/reload", method: .post).status == .unprocessableContent)

            try yaml("max_concurrent_jobs: 3").replacingOccurrences(of: "hostname: testhost", with: "hostname: elsewhere").write(toFile: path, atomically: true, encoding: .utf8)
            let applied = try await client.execute(uri: "/api/v1/config/reload", method: .post)
            #expect(applied.status == .ok)
            let result = try json(applied)
            #expect((result["changed"] as? [String])?.contains("max_concurrent_jobs") == true)
            // The fixture listens on port 0; the file names none, so api.listen is reported too.
            #expect((result["restart_required"] as? [String])?.contains("hostname") == true)
            #expect((result["restart_required"] as? [String])?.contains("max_concurrent_jobs") == false)
            #expect(site.engine.configuration.maxConcurrentJobs == 3)
            #expect(site.engine.configuration.hostname == "testhost")
        }
    }

    @Test func everyRegisteredRouteIsInTheOpenAPIDocumentAndViceVersa() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let router = buildRouter(engine: site.engine)
        let registered = Set(router.routes.compactMap { route -> String? in
            // Hummingbird writes captures as `{name}` too; the root `/metrics` is outside `/api/v1`. The web
            // UI's files (`/`, `/ui/{file}`) are not the API (docs/ui.md describes them).
            let path = "/" + route.path.description.split(separator: "/").joined(separator: "/")
            guard !WebUI.isUIPath(path) else { return nil }
            return "\(route.method.rawValue) \(path)"
        })
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, operations) in paths {
            let full = path == "/metrics" ? path : "/api/v1" + path
            for method in operations.keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                documented.insert("\(method.uppercased()) \(full)")
            }
        }
        #expect(registered.subtracting(documented).sorted() == [], "registered but not documented")
        #expect(documented.subtracting(registered).sorted() == [], "documented but not registered")

        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            // A known path with a method it does not take is 405 with Allow; an unknown path is 404.
            let wrongMethod = try await client.execute(uri: "/api/v1/jobs/123", method: .delete)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect((try json(wrongMethod)["error"] as? [String: Any])?["code"] as? String == "method_not_allowed")
            #expect(try await client.execute(uri: "/api/v1/status", method: .post).headers[.allow] == "GET")
            try await expectError(client, "/api/v1/nothing/here", status: .notFound)
            let served = try await client.execute(uri: "/api/v1/openapi.json", method: .get)
            #expect(served.status == .ok)
            #expect(Data(Array(served.body.readableBytesView)) == OpenAPIDocument.data)
        }
    }
}

/// The frames of a `text/event-stream` body: each one's `event:` name and decoded `data:` JSON.
func sseFrames(_ response: TestResponse) throws -> [(type: String, data: [String: Any])] {
    try sseFrames(body: response.body)
}

func sseFrames(_ response: TestClient.Response) throws -> [(type: String, data: [String: Any])] {
    try sseFrames(body: response.body ?? ByteBuffer())
}

/// A GET whose answer lasts as long as restic works (an event stream following a job, a download), on a
/// connection of its own to the live server: the framework's test client gives a whole answer 20 s, which
/// restic outlasts on a loaded machine. The ten minutes here bound a hang; they are not a measure.
func getUntilClosed(_ client: some TestClientProtocol, uri: String) async throws -> TestClient.Response {
    let port = try #require(client.port, "a live test client has a port")
    return try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(600))) { connection in
        try await connection.execute(TestClient.Request(uri, method: .get))
    }
}

private func sseFrames(body: ByteBuffer) throws -> [(type: String, data: [String: Any])] {
    let text = String(decoding: Array(body.readableBytesView), as: UTF8.self)
    var frames: [(type: String, data: [String: Any])] = []
    for block in text.components(separatedBy: "\n\n") {
        let lines = block.split(separator: "\n")
        guard let event = lines.first(where: { $0.hasPrefix("event: ") }), let data = lines.first(where: { $0.hasPrefix("data: ") }) else { continue }
        let object = try JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any] ?? [:]
        frames.append((String(event.dropFirst(7)), object))
    }
    return frames
}
