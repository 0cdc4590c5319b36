import Foundation
import HenAPI
import HenDrivers
import HenEngine
import HenEngineTestSupport
import HenJSON
import HenProcess
import HenServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Keeps the API's wire types (HenAPI, and the engine's records the API shows) in step with openapi.json:
/// every schema of the document has a sample here, each sample encodes to exactly the schema's keys, with its
/// required keys, and with values of the schema's types (explicit nulls only where the schema allows null);
/// and the real server's answers match the schemas of their routes.
struct OpenAPIWireTests {
    static let logger = Logger(label: "hen.test.openapi")
    static let date = Date(timeIntervalSince1970: 1_795_839_210)


    // MARK: Samples, by schema name

    static func job(finished: Bool) -> JobRecord {
        var record = JobRecord(
            id: "20261128-041330-123-a1b2", request: .backup(backup: "documents", repositories: finished ? ["local"] : nil), trigger: .schedule("every 1h"),
            priority: .normal, repositories: ["local"], queuedAt: date
        )
        guard finished else { return record }
        record.state = .warning
        record.startedAt = date
        record.endedAt = date
        record.lastReportAt = date
        record.steps = [
            JobStep(id: "backup:local", name: "backup to local", repository: "local", state: .succeeded, startedAt: date, endedAt: date, message: "done"),
            step(hook: true),
        ]
        record.progress = HenDrivers.Progress(fraction: 0.5, filesDone: 1, totalFiles: 2, bytesDone: 3, totalBytes: 4, secondsElapsed: 5, secondsRemaining: 6, currentFiles: ["/a"])
        record.warnings = ["a file could not be read"]
        record.error = "it failed"
        record.results = [RepositoryResult(repository: "local", snapshotID: "abc", filesNew: 1, filesChanged: 2, filesUnmodified: 3, filesProcessed: 6, bytesProcessed: 7, bytesAdded: 8, snapshotsRemoved: ["x"], snapshotsKept: 1, filesRestored: 2, bytesRestored: 3, checkErrors: ["e"])]
        record.log = [JobLogLine(time: date, level: .info, message: "hello")]
        return record
    }

    static func step(hook: Bool) -> JobStep {
        var step = JobStep(id: "hook:before:0", name: "hook before", state: .running)
        if hook {
            step.hook = JobStep.HookDetail(phase: "before", policy: "break", exitCode: nil, signal: nil, httpStatus: 200, attempts: 1, timedOut: false, output: "ok", outputTruncated: false)
        }
        return step
    }

    static let plannedRun = PlannedRun(operation: .backup, target: "documents", date: date, reason: "every 1h", schedule: "every 1h", lastRun: nil)
    static let watcher = WatchStatus(
        backup: "documents", paths: ["/srv"], latencySeconds: 30, maxWaitSeconds: 600, state: .degraded, watches: 3,
        degraded: WatchDegradation(code: "inotify_watch_limit", message: "too many"), lastChange: date, pendingTrigger: nil, pendingChanges: 0, lastTrigger: nil
    )
    static let snapshot = API.Snapshot(RepositorySnapshot(repository: "local", snapshot: Snapshot(id: String(repeating: "ab", count: 32), time: date, host: "testhost", tags: ["backup=documents", "job=j1"], paths: ["/srv"])))
    static let alarm = BackupAlarm(
        backup: "documents", repository: "local", jobID: "j1", snapshotID: "abcd", parentSnapshotID: "ef01", removed: 40, parentFiles: 100,
        threshold: "30%", message: "The snapshot removed 40 of 100 files.", raisedAt: date
    )
    static var acknowledged: BackupAlarm {
        var alarm = Self.alarm
        alarm.acknowledgedAt = date
        return alarm
    }
    static let issue = ConfigurationIssue(file: "hen.yml", line: 1, column: 2, keyPath: "backups.x", message: "wrong")

    static var configuration: Configuration {
        .fixture(
            root: "/tmp/hen-openapi", repositories: ["local": Configuration.Repository(name: "local", location: "/tmp/hen-openapi/repo", password: Secret("pw"))],
            backups: [Configuration.Backup(name: "documents", paths: ["/srv"], repositories: ["local"])]
        )
    }

    /// One or more values per schema of the document; a schema without one fails the test.
    static func samples() throws -> [String: [any Encodable]] {
        let configuration = Self.configuration
        let status = EngineStatus(now: date, queued: [job(finished: false)], running: [.init(record: job(finished: true), secondsSinceLastReport: 2)], nextRuns: [plannedRun], maxConcurrentJobs: 1, watchers: [watcher])
        let repository = try #require(configuration.repositories["local"])
        let backup = try #require(configuration.backup(named: "documents"))
        let overview = API.RepositoryOverview(repository, configuration: configuration)
        let operations: [JobOperation] = [
            .backup(backup: "documents", repositories: nil), .backup(backup: "documents", repositories: ["local"]), .prune(backup: "documents"),
            .check(repository: "local", readDataSubset: nil), .check(repository: "local", readDataSubset: "5%"),
            .restore(repository: "local", snapshot: "abc", target: "/r", includes: []), .forget(repository: "local", snapshots: ["abc"]),
            .initialize(repository: "local"), .unlock(repository: "local"),
        ]
        let triggers: [JobTrigger] = [.schedule("every 1h"), .watch(paths: ["/srv"], count: 2), .api, .cli, .ui, .startup]
        let events: [JobEvent] = [
            .state(jobID: "j", state: .running, record: job(finished: true)), .stepStarted(jobID: "j", step: step(hook: false)),
            .stepEnded(jobID: "j", step: step(hook: true)), .progress(jobID: "j", progress: HenDrivers.Progress(fraction: 0.1)),
            .log(jobID: "j", line: JobLogLine(time: date, level: .error, message: "m")), .warning(jobID: "j", message: "w"),
        ]
        return [
            "Error": [API.Error(error: .init(code: "not_found", message: "no")), API.Error(error: .init(code: "invalid_config", message: "bad", details: [issue]))],
            "ConfigurationIssue": [issue],
            "Snapshot": [snapshot],
            "SnapshotPage": [API.SnapshotPage(SnapshotPage(items: [RepositorySnapshot(repository: "local", snapshot: snapshot.snapshot)], nextCursor: "c", unreadable: [UnreadableRepository(repository: "usb", message: "gone")]))],
            "NextCursor": [String?.none, "abc"],
            "TreeEntry": [API.TreeEntry(Node(path: "/a", kind: .file, size: 1, mode: 0o644, modificationTime: date)), API.TreeEntry(Node(path: "/l", kind: .symlink, linkTarget: "/a"))],
            "TreePage": [API.TreePage(DirectoryPage(repository: "local", snapshotID: "abc", path: "/", items: [Node(path: "/a", kind: .directory)], nextCursor: nil))],
            "RestoreRequest": [API.RestoreRequest(repository: "local", snapshot: "latest", paths: nil, target: "/restores", priority: .text("next")), API.RestoreRequest(repository: "local", snapshot: "abcd", paths: ["/a"], target: "/r", priority: .number(5))],
            "BackupRequest": [API.BackupRequest(), API.BackupRequest(priority: .text("next"), repositories: ["local"])],
            "PruneRequest": [API.PruneRequest(priority: .number(-3))],
            "CheckRequest": [API.CheckRequest(), API.CheckRequest(priority: .text("on-idle"), readDataSubset: "5%")],
            "UnlockRequest": [API.UnlockRequest(priority: .text("next"))],
            "JobAccepted": [API.JobAccepted(job: job(finished: false))],
            "JobStep": [step(hook: false), step(hook: true)] + job(finished: true).steps,
            "HookDetail": [try #require(step(hook: true).hook)],
            "JobLogLine": [JobLogLine(time: date, level: .warning, message: "careful")],
            "Progress": [HenDrivers.Progress(), try #require(job(finished: true).progress)],
            "RepositoryResult": [RepositoryResult(repository: "local")] + job(finished: true).results,
            "JobOperation": operations,
            "JobTrigger": triggers,
            "Job": [job(finished: false), job(finished: true)],
            "JobSummary": [job(finished: true).summary],
            "JobState": JobState.allCases.map { $0 as any Encodable },
            "JobPage": [API.Page(items: [job(finished: true).summary], nextCursor: "c")],
            "PlannedRun": [plannedRun, PlannedRun(operation: .check, target: "local", date: date, reason: "r", schedule: "every 1w", lastRun: date)],
            "WatchStatus": [watcher],
            "Status": [
                API.Status(configuration: configuration, startedAt: date, status: status, problems: []),
                API.Status(configuration: configuration, startedAt: date, status: status, problems: [.init(kind: "backup_overdue", subject: "documents", message: "late")]),
            ],
            "HealthProblem": [EngineHealth.Problem(kind: "repository_failed", subject: "local", message: "The last check of local failed.")],
            "BackupOverview": [
                API.BackupOverview(backup, lastBackup: job(finished: true), nextRun: plannedRun, lastDrill: job(finished: true), alarm: alarm),
                API.BackupOverview(backup, lastBackup: nil, nextRun: nil, lastDrill: nil, alarm: nil),
            ],
            "BackupPage": [API.Page(items: [API.BackupOverview(backup, lastBackup: nil, nextRun: nil, lastDrill: nil, alarm: nil)], nextCursor: nil)],
            "BackupDetail": [API.BackupDetail(
                name: "documents", definition: configuration.redactedJSON(backup: backup), lastJobs: [.backup: job(finished: true), .prune: job(finished: false)],
                latestSnapshots: [API.LatestSnapshot(repository: "local", snapshot: snapshot, error: nil), API.LatestSnapshot(repository: "usb", snapshot: nil, error: "gone")],
                nextRuns: [plannedRun], alarm: nil
            ), API.BackupDetail(
                name: "documents", definition: configuration.redactedJSON(backup: backup), lastJobs: [.drill: job(finished: true)],
                latestSnapshots: [], nextRuns: [], alarm: alarm
            )],
            "BackupAlarm": [alarm, acknowledged],
            "AlarmAcknowledged": [API.AlarmAcknowledged(alarm: acknowledged)],
            "SnapshotDiff": [
                API.SnapshotDiff(
                    repository: "local", snapshot: snapshot, against: snapshot, method: .driver, added: 1, removed: 1, modified: 1, bytesAdded: 10, bytesRemoved: 20,
                    items: [API.SnapshotDiff.Change(path: "/a", change: .added, type: .file), API.SnapshotDiff.Change(path: "/b", change: .removed, type: nil)], nextCursor: "c"
                ),
                API.SnapshotDiff(
                    repository: "local", snapshot: snapshot, against: snapshot, method: .trees, added: 0, removed: 0, modified: 0, bytesAdded: nil, bytesRemoved: nil,
                    items: [], nextCursor: nil
                ),
            ],
            "RepositoryOverview": [overview],
            "RepositoryPage": [API.Page(items: [overview], nextCursor: nil)],
            "RepositoryDetail": [
                API.RepositoryDetail(overview: overview, definition: configuration.redactedJSON(repository: repository), stats: API.RepositoryStats(snapshotCount: 1, latestSnapshot: snapshot, lastBackupBytesAdded: 1, lastBackupBytesProcessed: 2, lastBackupFilesProcessed: 3), lastCheck: job(finished: true), nextCheck: plannedRun),
                API.RepositoryDetail(overview: overview, definition: configuration.redactedJSON(repository: repository), stats: API.RepositoryStats(error: "unreachable"), lastCheck: nil, nextCheck: nil),
            ],
            "ReloadResult": [ReloadResult(source: "hen.yml", changed: ["max_concurrent_jobs"], restartRequired: ["hostname"], warnings: [issue])],
            "JobEvent": events,
            "Session": [API.Session(authRequired: false, identity: nil), API.Session(authRequired: true, identity: "user:me")],
            "Login": [API.Login(name: "me", password: "pw")],
            "Health": [
                API.Health(EngineHealth(acceptingJobs: true, queued: 0, running: 0, problems: [])),
                API.Health(EngineHealth(acceptingJobs: true, queued: 1, running: 1, problems: [.init(kind: "backup_overdue", subject: "documents", message: "late")])),
            ],
        ]
    }

    /// What decodes back (the CLI reads these): the sample again, through the same convention.
    static func decodable() -> [String: any Decodable.Type] {
        [
            "Error": API.Error.self, "ConfigurationIssue": ConfigurationIssue.self, "Snapshot": API.Snapshot.self, "SnapshotPage": API.SnapshotPage.self,
            "TreeEntry": API.TreeEntry.self, "TreePage": API.TreePage.self, "RestoreRequest": API.RestoreRequest.self, "BackupRequest": API.BackupRequest.self,
            "PruneRequest": API.PruneRequest.self, "CheckRequest": API.CheckRequest.self, "UnlockRequest": API.UnlockRequest.self, "JobAccepted": API.JobAccepted.self,
            "JobStep": JobStep.self, "HookDetail": JobStep.HookDetail.self, "JobLogLine": JobLogLine.self, "Progress": HenDrivers.Progress.self,
            "RepositoryResult": RepositoryResult.self, "JobOperation": JobOperation.self, "JobTrigger": JobTrigger.self, "Job": JobRecord.self,
            "JobSummary": JobRecord.self, "JobPage": API.Page<JobRecord>.self, "PlannedRun": PlannedRun.self, "WatchStatus": WatchStatus.self,
            "Status": API.Status.self, "RepositoryOverview": API.RepositoryOverview.self, "RepositoryPage": API.Page<API.RepositoryOverview>.self,
            "ReloadResult": ReloadResult.self, "JobEvent": JobEvent.self, "Session": API.Session.self, "Login": API.Login.self, "Health": API.Health.self,
            "BackupAlarm": BackupAlarm.self, "AlarmAcknowledged": API.AlarmAcknowledged.self, "SnapshotDiff": API.SnapshotDiff.self,
        ]
    }

    @Test func everySchemaHasASampleThatMatchesIt() throws {
        let validator = try SchemaValidator(document: OpenAPIDocument.data)
        let schemas = validator.schemas
        let samples = try Self.samples()
        #expect(Set(schemas.keys).subtracting(samples.keys).sorted() == [], "schemas without a sample in OpenAPIWireTests.samples")
        #expect(Set(samples.keys).subtracting(schemas.keys).sorted() == [], "samples of schemas the document does not have")
        for (name, values) in samples.sorted(by: { $0.key < $1.key }) {
            guard let schema = schemas[name] else { continue }
            for value in values {
                let data = try HenJSON.encoder().encode(value)
                let problems = validator.problems(try JSON.parse(data), schema, at: name)
                #expect(problems == [], "\(name): \(String(decoding: data, as: UTF8.self))")
                if let type = Self.decodable()[name] {
                    let decoded = try HenJSON.decoder().decode(type, from: data)
                    let encodable = try #require(decoded as? any Encodable)
                    let again = try HenJSON.encoder().encode(encodable)
                    #expect(again == data, "\(name) does not read back what it wrote")
                }
            }
        }
    }

    /// The check above can fail: a key left out, a key the schema does not have, a null where none is allowed,
    /// a date that is not RFC 3339 and a wrong type are each found.
    @Test func theValidatorFindsDrift() throws {
        let validator = try SchemaValidator(document: OpenAPIDocument.data)
        let schema = try #require(validator.schemas["PlannedRun"])
        let good = #"{"operation":"backup","target":"d","date":"2026-11-28T04:13:30Z","reason":"r","schedule":"s","last_run":null}"#
        #expect(validator.problems(try JSON.parse(Data(good.utf8)), schema, at: "PlannedRun") == [])
        for bad in [
            #"{"operation":"backup","target":"d","date":"2026-11-28T04:13:30Z","reason":"r","schedule":"s"}"#,
            #"{"operation":"backup","target":"d","date":"2026-11-28T04:13:30Z","reason":"r","schedule":"s","last_run":null,"lastRun":null}"#,
            #"{"operation":"backup","target":null,"date":"2026-11-28T04:13:30Z","reason":"r","schedule":"s","last_run":null}"#,
            #"{"operation":"backup","target":"d","date":"1795839210","reason":"r","schedule":"s","last_run":null}"#,
            #"{"operation":"nothing","target":"d","date":"2026-11-28T04:13:30Z","reason":"r","schedule":"s","last_run":null}"#,
            #"{"operation":"backup","target":3,"date":"2026-11-28T04:13:30Z","reason":"r","schedule":"s","last_run":null}"#,
        ] {
            #expect(validator.problems(try JSON.parse(Data(bad.utf8)), schema, at: "PlannedRun") != [], "\(bad)")
        }
    }

    /// The real server's answers, route by route, against the schema of their 2xx answer.
    @Test func theServersAnswersMatchTheirSchemas() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let validator = try SchemaValidator(document: OpenAPIDocument.data)
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            func check(_ method: HTTPRequest.Method, _ uri: String, route: String, body: String? = nil) async throws {
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                let text = String(decoding: Array(response.body.readableBytesView), as: UTF8.self)
                #expect((200..<300).contains(response.status.code), "\(method) \(uri): \(response.status) \(text)")
                let schema = try #require(validator.answerSchema(method: method.rawValue.lowercased(), path: route, status: response.status.code), "\(method) \(route) \(response.status.code) is not in the document")
                #expect(validator.problems(try JSON.parse(Data(text.utf8)), schema, at: "\(method) \(route)") == [], "\(text)")
            }
            try await check(.get, "/api/v1/status", route: "/status")
            try await check(.get, "/api/v1/health", route: "/health")
            try await check(.get, "/api/v1/session", route: "/session")
            try await check(.get, "/api/v1/backups", route: "/backups")
            try await check(.get, "/api/v1/backups/documents", route: "/backups/{name}")
            try await check(.get, "/api/v1/repositories", route: "/repositories")
            try await check(.get, "/api/v1/repositories/local", route: "/repositories/{name}")
            try await check(.get, "/api/v1/snapshots", route: "/snapshots")
            try await check(.get, "/api/v1/repositories/local/snapshots/\(site.mine)", route: "/repositories/{name}/snapshots/{id}")
            try await check(.get, "/api/v1/repositories/local/snapshots/\(site.mine)/tree?path=/", route: "/repositories/{name}/snapshots/{id}/tree")
            try await check(.post, "/api/v1/repositories/local/check", route: "/repositories/{name}/check", body: #"{"priority": "next", "read_data_subset": null}"#)
            try await check(.get, "/api/v1/jobs", route: "/jobs")
        }
    }
}

/// A JSON document as it is, numbers told from booleans (what `JSONSerialization` does not promise on Linux).
indirect enum JSON: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Double)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null } else if let value = try? container.decode(Bool.self) { self = .bool(value) } else if let value = try? container.decode(Int64.self) {
            self = .integer(Double(value))
        } else if let value = try? container.decode(UInt64.self) { self = .integer(Double(value)) } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) { self = .string(value) } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    static func parse(_ data: Data) throws -> JSON { try JSONDecoder().decode(JSON.self, from: data) }

    subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var text: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var strings: [String] {
        if case .array(let items) = self { return items.compactMap(\.text) }
        return text.map { [$0] } ?? []
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value), .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let items): "[\(items.map(\.description).joined(separator: ","))]"
        case .object(let members): "{\(members.keys.sorted().joined(separator: ","))}"
        }
    }

    func isType(_ type: String) -> Bool {
        switch (type, self) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number), ("string", .string),
            ("array", .array), ("object", .object):
            true
        default: false
        }
    }
}

/// The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that openapi.json uses: `$ref`, `type` (one or
/// a list), `const`, `enum`, `required`, `properties`, `additionalProperties`, `items`, `oneOf`, `allOf`,
/// `format: date-time`. An object must have exactly its schema's properties (the convention writes every key,
/// null when absent), unless the schema allows more or is a map of optional entries.
struct SchemaValidator {
    let document: JSON

    init(document: Data) throws {
        self.document = try JSON.parse(document)
    }

    var schemas: [String: JSON] {
        if case .object(let members)? = document["components"]?["schemas"] { return members }
        return [:]
    }

    func answerSchema(method: String, path: String, status: Int) -> JSON? {
        document["paths"]?[path]?[method]?["responses"]?[String(status)]?["content"]?["application/json"]?["schema"]
    }

    func resolve(_ schema: JSON) -> JSON {
        var schema = schema
        while let reference = schema["$ref"]?.text {
            var node: JSON? = document
            for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
            schema = node ?? .object([:])
        }
        return schema
    }

    func problems(_ value: JSON, _ schema: JSON, at path: String, loose: Bool = false) -> [String] {
        let schema = resolve(schema)
        var problems: [String] = []
        if case .array(let parts)? = schema["allOf"] {
            // Each part checks its own keys; the object's keys are checked against all the parts together.
            let resolved = parts.map(resolve)
            for part in resolved { problems += self.problems(value, part, at: path, loose: true) }
            if case .object(let object) = value {
                var known: Set<String> = []
                for part in resolved { if case .object(let properties)? = part["properties"] { known.formUnion(properties.keys) } }
                let unknown = Set(object.keys).subtracting(known)
                if !unknown.isEmpty { problems.append("\(path): keys not in the schema: \(unknown.sorted())") }
            }
        }
        if case .array(let choices)? = schema["oneOf"] {
            let matching = choices.filter { self.problems(value, $0, at: path).isEmpty }.count
            if matching != 1 { problems.append("\(path): \(value) matches \(matching) of oneOf's \(choices.count) schemas, not one") }
        }
        if let constant = schema["const"], constant != value { problems.append("\(path): \(value) is not \(constant)") }
        if case .array(let values)? = schema["enum"], !values.contains(value) { problems.append("\(path): \(value) is not one of \(values)") }
        if let type = schema["type"] {
            let types = type.strings
            guard types.contains(where: value.isType) else { return problems + ["\(path): \(value) is not \(types.joined(separator: " or "))"] }
        }
        if schema["format"]?.text == "date-time", let text = value.text,
            text.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"#, options: .regularExpression) == nil
        {
            problems.append("\(path): \(text) is not an RFC 3339 date-time")
        }
        if case .object(let object) = value {
            for key in schema["required"]?.strings ?? [] where object[key] == nil { problems.append("\(path): \(key) is missing") }
            var properties: [String: JSON] = [:]
            if case .object(let members)? = schema["properties"] { properties = members }
            let additional = schema["additionalProperties"]
            for (key, member) in object {
                if let property = properties[key] {
                    problems += self.problems(member, property, at: "\(path).\(key)")
                } else if case .object? = additional {
                    problems += self.problems(member, additional!, at: "\(path).\(key)")
                } else if schema["properties"] != nil, additional != .bool(true), !loose {
                    problems.append("\(path): \(key) is not in the schema")
                }
            }
            // Every key is written (null when absent): a documented key that never appears is a drift, except
            // in a map of optional entries (additionalProperties: false, nothing required).
            let isMap = additional == .bool(false) && (schema["required"]?.strings ?? []).isEmpty
            if !isMap {
                for key in properties.keys where object[key] == nil { problems.append("\(path): \(key) is documented but not written") }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() { problems += self.problems(item, itemSchema, at: "\(path)[\(index)]") }
        }
        return problems
    }
}
