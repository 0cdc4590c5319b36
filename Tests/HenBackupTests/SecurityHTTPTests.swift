import Foundation
import HenEngine
import HenTestSupport
import Testing

/// The HTTP and secrets half of the security suite (docs/security.md): the real daemon with real restic on a
/// free 127.0.0.1 port, driven byte by byte as a hostile web page, a careless client or an attacker would
/// drive it. Every daemon a test starts is stopped by it (SIGTERM, then killed by `close()` if it hangs).
@Suite(.serialized) struct SecurityHTTPTests {
    typealias Setup = DaemonEndToEndTests.Setup
    static let restic = DaemonEndToEndTests.restic
    static var resticAvailable: Bool { FileManager.default.isExecutableFile(atPath: restic) }

    /// `hunter2-hunter2`, bcrypt cost 4 (made with Python's crypt; the daemon reads `$2b$` as htpasswd's `$2y$`).
    static let password = "hunter2-hunter2"
    static let passwordHash = "$2b$04$LzcfZ9EPhZhqltfFPOISMOaRUmWSUXKq6ojxZewkIoxd.SxXcykru"

    /// Starts the daemon and waits until its API answers.
    static func start(_ setup: Setup, _ name: String = "daemon", environment: [String: String] = [:]) async throws -> DaemonProcess {
        let daemon = try DaemonProcess(arguments: ["daemon", "--config", setup.configPath], logPath: "\(setup.directory)/\(name).log", environment: environment)
        try await setup.wait(timeout: 60, for: "the API to answer") {
            guard daemon.isRunning else { return true }
            return (try? RawHTTP.request(port: setup.port, "GET", "/api/v1/health", timeout: 5))?.status == 200
        }
        guard daemon.isRunning else { throw DaemonTestError("The daemon exited at start:\n\(daemon.output)") }
        return daemon
    }

    static func stop(_ daemon: DaemonProcess) async {
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "daemon output:\n\(daemon.output.suffix(4_000))")
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    // MARK: Host and Origin, auth off

    /// DNS rebinding and cross-site requests against a daemon with `auth: none` on loopback (issue 12, item
    /// 3): a foreign `Host` is refused on every route (the download too), a state-changing request from
    /// another origin or with a non-JSON body is refused and queues nothing; the daemon's own origin and
    /// clients without `Origin` (curl, the CLI) keep working.
    @Test(.enabled(if: resticAvailable))
    func withoutAuthOnlyServedHostsAndTheDaemonsOwnOriginGetIn() async throws {
        let setup = try Setup(schedule: "1w", apiYAML: "auth: none\n  allowed_hosts: [backup.example.com]")
        defer { setup.remove() }
        let daemon = try await Self.start(setup)
        defer { daemon.close() }
        let port = setup.port
        // The weekly schedule has never run: one backup at start, whose snapshot the download reads.
        let records = try await setup.waitForRecords(timeout: 90) { $0.contains { $0.state == .succeeded } }
        let snapshot = try #require(records.first { $0.state == .succeeded }?.results.first?.snapshotID)
        let download = "/api/v1/repositories/local/snapshots/\(snapshot)/download?path=\(setup.directory)/source/notes/todo.txt"

        // Host: loopback names with or without a port, allowed_hosts; nothing else.
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "localhost", "[::1]:\(port)", "LOCALHOST:\(port)", "backup.example.com", "backup.example.com:443"] {
            let answer = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/status", host: host))
            #expect(answer.status == 200, "Host \(host): \(answer)")
        }
        for host in ["evil.example:\(port)", "evil.example", "backup.example.com.evil.example", "127.0.0.1.evil.example:\(port)", "localhost.evil.example"] {
            let answer = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/status", host: host))
            #expect(answer.status == 421 && answer.errorCode == "misdirected_request", "Host \(host): \(answer)")
        }
        let own = try #require(try RawHTTP.request(port: port, "GET", download))
        #expect(own.status == 200 && own.text == "buy eggs\n", "\(own)")
        let rebound = try #require(try RawHTTP.request(port: port, "GET", download, host: "evil.example:\(port)"))
        #expect(rebound.status == 421 && rebound.errorCode == "misdirected_request", "\(rebound)")
        #expect(!rebound.text.contains("buy eggs"))
        let events = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/events", host: "evil.example:\(port)", timeout: 10))
        #expect(events.status == 421, "\(events)")

        // State-changing requests from other origins, or with bodies a form or a "simple" request sends.
        let jobsBefore = try await setup.records().count
        let restore = #"{"repository":"local","snapshot":"\#(snapshot)","target":"\#(setup.directory)/restores/web"}"#
        let refused: [(String, String, [(String, String)], Data?, Int, String)] = [
            ("POST", "/api/v1/restores", [("Origin", "http://evil.example"), ("Content-Type", "text/plain")], Data(restore.utf8), 403, "cross_origin"),
            ("POST", "/api/v1/restores", [("Content-Type", "text/plain")], Data(restore.utf8), 415, "unsupported_media_type"),
            ("POST", "/api/v1/restores", [("Origin", "http://evil.example"), ("Content-Type", "application/json")], Data(restore.utf8), 403, "cross_origin"),
            ("POST", "/api/v1/config/reload", [("Origin", "http://evil.example"), ("Content-Type", "application/x-www-form-urlencoded")], Data("a=b".utf8), 403, "cross_origin"),
            ("POST", "/api/v1/config/reload", [("Content-Type", "application/x-www-form-urlencoded")], Data("a=b".utf8), 415, "unsupported_media_type"),
            ("POST", "/api/v1/config/reload", [("Content-Type", "multipart/form-data; boundary=x")], Data("--x--".utf8), 415, "unsupported_media_type"),
            ("POST", "/api/v1/backups/documents/backup", [("Origin", "http://evil.example")], nil, 403, "cross_origin"),
            // Another port of the same host is another origin (SameSite cookies would not tell them apart).
            ("POST", "/api/v1/backups/documents/backup", [("Origin", "http://127.0.0.1:\(port == 65_535 ? 1 : port + 1)")], nil, 403, "cross_origin"),
            ("POST", "/api/v1/backups/documents/backup", [("Origin", "null")], nil, 403, "cross_origin"),
            ("POST", "/api/v1/backups/documents/backup", [("Sec-Fetch-Site", "same-site")], nil, 403, "cross_origin"),
            ("POST", "/api/v1/backups/documents/backup", [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://127.0.0.1:\(port)")], nil, 403, "cross_origin"),
            ("DELETE", "/api/v1/repositories/local/snapshots/\(snapshot)", [("Origin", "https://evil.example")], nil, 403, "cross_origin"),
        ]
        for (method, path, headers, body, status, code) in refused {
            let answer = try #require(try RawHTTP.request(port: port, method, path, headers: headers, body: body))
            #expect(answer.status == status && answer.errorCode == code, "\(method) \(path) \(headers): \(answer)")
        }
        #expect(try await setup.records().count == jobsBefore, "a refused request queued a job")

        // The daemon's own origin (what its web UI sends) and clients without Origin get in.
        let sameOrigin = [("Origin", "http://127.0.0.1:\(port)"), ("Sec-Fetch-Site", "same-origin")]
        let reload = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/config/reload", headers: sameOrigin))
        #expect(reload.status == 200, "\(reload)")
        let viaLocalhost = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/config/reload", host: "localhost:\(port)", headers: [("Origin", "http://localhost:\(port)")]))
        #expect(viaLocalhost.status == 200, "\(viaLocalhost)")
        let viaProxy = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/config/reload", headers: [("Origin", "https://backup.example.com")]))
        #expect(viaProxy.status == 200, "\(viaProxy)")
        let restored = try #require(try RawHTTP.json(port: port, "POST", "/api/v1/restores", headers: sameOrigin, json: restore))
        #expect(restored.status == 202, "\(restored)")
        let curl = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/config/reload"))
        #expect(curl.status == 200, "\(curl)")
        _ = try await setup.waitForRecords(timeout: 90) { $0.contains { $0.operation == "restore" && $0.state.isFinished } }
        await Self.stop(daemon)
    }

    // MARK: Auth on

    /// With auth on, credentials that are missing, empty, malformed, hold a NUL or are oversize are refused
    /// with the JSON error, and a valid login cookie does not let a foreign page change anything.
    @Test(.enabled(if: resticAvailable))
    func authCannotBeBypassedAndACookieDoesNotHelpAForeignPage() async throws {
        let api = "auth:\n    tokens: [\(Setup.token)]\n    users: [{ name: alice, password_hash: \"\(Self.passwordHash)\" }]"
        let setup = try Setup(schedule: "1w", apiYAML: api)
        defer { setup.remove() }
        let daemon = try await Self.start(setup)
        defer { daemon.close() }
        let port = setup.port
        _ = try await setup.waitForRecords(timeout: 90) { $0.contains { $0.state == .succeeded } }

        let good = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/jobs", headers: [("Authorization", Self.basic("alice", Self.password))]))
        #expect(good.status == 200, "\(good)")
        #expect(try RawHTTP.request(port: port, "GET", "/api/v1/jobs", headers: [("Authorization", "Bearer \(Setup.token)")])?.status == 200)

        let attempts: [(String, [(String, String)])] = [
            ("missing", []),
            ("empty", [("Authorization", "")]),
            ("scheme only", [("Authorization", "Bearer")]),
            ("empty bearer", [("Authorization", "Bearer ")]),
            ("unknown scheme", [("Authorization", "Digest username=\"alice\"")]),
            ("not base64", [("Authorization", "Basic !!!not-base64!!!")]),
            ("no colon", [("Authorization", "Basic " + Data("alice".utf8).base64EncodedString())]),
            ("empty password", [("Authorization", Self.basic("alice", ""))]),
            ("NUL after the password", [("Authorization", Self.basic("alice", Self.password + "\0anything"))]),
            ("NUL in the user", [("Authorization", Self.basic("alice\0admin", Self.password))]),
            ("token prefix", [("Authorization", "Bearer \(Setup.token.dropLast())")]),
            ("token and more", [("Authorization", "Bearer \(Setup.token)x")]),
            ("oversize", [("Authorization", "Bearer " + String(repeating: "A", count: 8_000))]),
            ("oversize basic", [("Authorization", "Basic " + Data("alice:\(String(repeating: "p", count: 9_000))".utf8).base64EncodedString())]),
            ("forged cookie", [("Cookie", "hen_session=0000")]),
        ]
        for (name, headers) in attempts {
            let answer = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/jobs", headers: headers), "\(name)")
            #expect(answer.status == 401 && answer.errorCode == "unauthorized", "\(name): \(answer)")
            let queued = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/backups/documents/backup", headers: headers), "\(name)")
            #expect(queued.status == 401, "\(name): \(queued)")
        }
        // Past the header limit the parser refuses it before authentication: 431 with the JSON error.
        let huge = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/jobs", headers: [("Authorization", "Bearer " + String(repeating: "A", count: 40_000))]))
        #expect(huge.status == 431 && huge.errorCode == "headers_too_large", "\(huge)")

        // The login is same-origin checked too; a cookie plus a foreign Origin changes nothing.
        let login = #"{"name":"alice","password":"\#(Self.password)"}"#
        let foreignLogin = try #require(try RawHTTP.json(port: port, "POST", "/api/v1/login", headers: [("Origin", "http://evil.example")], json: login))
        #expect(foreignLogin.status == 403 && foreignLogin.header("set-cookie") == nil, "\(foreignLogin)")
        let nulLogin = try #require(try RawHTTP.json(port: port, "POST", "/api/v1/login", json: #"{"name":"alice","password":"\#(Self.password)\u0000x"}"#))
        #expect(nulLogin.status == 401, "\(nulLogin)")
        let ownLogin = try #require(try RawHTTP.json(port: port, "POST", "/api/v1/login", headers: [("Origin", "http://127.0.0.1:\(port)")], json: login))
        #expect(ownLogin.status == 200, "\(ownLogin)")
        let cookie = try #require(ownLogin.header("set-cookie")?.split(separator: ";").first.map(String.init))
        let jobsBefore = try await setup.records().count
        for foreign in [[("Origin", "http://evil.example")], [("Origin", "http://127.0.0.1:\(port == 65_535 ? 1 : port + 1)")], [("Sec-Fetch-Site", "cross-site")]] {
            let answer = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/backups/documents/backup", headers: [("Cookie", cookie)] + foreign))
            #expect(answer.status == 403 && answer.errorCode == "cross_origin", "\(foreign): \(answer)")
        }
        #expect(try await setup.records().count == jobsBefore, "a cross-origin request with a cookie queued a job")
        let mine = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/backups/documents/backup", headers: [("Cookie", cookie), ("Origin", "http://127.0.0.1:\(port)")]))
        #expect(mine.status == 202, "\(mine)")
        _ = try await setup.waitForRecords(timeout: 90) { $0.count > jobsBefore && $0.allSatisfy(\.state.isFinished) }
        await Self.stop(daemon)
    }

    // MARK: Limits

    /// A body over 1 MiB answers 413 (announced or chunked), headers, a header or a URL over their limits
    /// 431, each with the JSON error; the daemon goes on answering.
    @Test(.enabled(if: resticAvailable))
    func oversizeBodiesHeadersAndURLsGetTheJSONError() async throws {
        let setup = try Setup(schedule: "1w", apiYAML: "auth: none")
        defer { setup.remove() }
        let daemon = try await Self.start(setup)
        defer { daemon.close() }
        let port = setup.port
        let big = Data(("{\"paths\":[\"" + String(repeating: "a", count: 2 << 20) + "\"]}").utf8)
        for chunked in [false, true] {
            let answer = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/restores", headers: [("Content-Type", "application/json")], body: big, chunked: chunked), "chunked \(chunked)")
            #expect(answer.status == 413 && answer.errorCode == "body_too_large", "chunked \(chunked): \(answer)")
        }
        let cases: [(String, String, [(String, String)])] = [
            ("all headers", "/api/v1/status", (0..<10).map { ("X-Filler-\($0)", String(repeating: "f", count: 4_000)) }),
            ("one header", "/api/v1/status", [("X-Filler", String(repeating: "f", count: 20_000))]),
            ("query", "/api/v1/jobs?backup=" + String(repeating: "q", count: 20_000), []),
            ("many headers", "/api/v1/status", (0..<150).map { ("X-Many-\($0)", "1") }),
        ]
        for (name, target, headers) in cases {
            let answer = try #require(try RawHTTP.request(port: port, "GET", target, headers: headers), "\(name): no answer")
            #expect(answer.status == 431 && answer.errorCode == "headers_too_large", "\(name): \(answer)")
        }
        // Just below the limits: answered normally.
        let below = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/status", headers: [("X-Filler", String(repeating: "f", count: 15_000))]))
        #expect(below.status == 200, "\(below)")
        #expect(try RawHTTP.request(port: port, "GET", "/api/v1/health")?.status == 200)
        await Self.stop(daemon)
    }

    // MARK: Event streams

    /// 300 clients follow `/api/v1/events` at once: the daemon keeps answering other requests, and every
    /// stream gets the events of a job started meanwhile.
    @Test(.enabled(if: resticAvailable))
    func threeHundredEventStreamsAtOnce() async throws {
        let setup = try Setup(schedule: "1w", apiYAML: "auth: none")
        defer { setup.remove() }
        let daemon = try await Self.start(setup)
        defer { daemon.close() }
        let port = setup.port
        _ = try await setup.waitForRecords(timeout: 90) { $0.contains { $0.state == .succeeded } }

        var streams: [RawHTTPConnection] = []
        var received: [String] = []
        for _ in 0..<300 {
            let connection = try RawHTTPConnection(port: port, timeout: 30)
            connection.send(Data("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n\r\n".utf8))
            streams.append(connection)
            received.append("")
        }
        // Every stream is open (its headers and the opening comment arrived).
        func readAll(until condition: (String) -> Bool, what: String, timeout: Double) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                var pending = 0
                for index in streams.indices where !condition(received[index]) {
                    guard let data = streams[index].readAvailable(timeout: 0) else {
                        throw DaemonTestError("Event stream \(index) was closed before \(what): \(received[index].prefix(300))")
                    }
                    received[index] += String(decoding: data, as: UTF8.self)
                    if !condition(received[index]) { pending += 1 }
                }
                if pending == 0 { return }
                guard Date() < deadline else { throw DaemonTestError("\(pending) of 300 event streams are still waiting for \(what) after \(timeout)s.") }
                // Wait for any stream to have data, not for a fixed time.
                var pollers = streams.indices.filter { !condition(received[$0]) }.map { pollfd(fd: streams[$0].descriptor, events: Int16(POLLIN), revents: 0) }
                _ = poll(&pollers, nfds_t(pollers.count), 1_000)
            }
        }
        try readAll(until: { $0.contains("200 OK") && $0.contains(": hen-backup events") }, what: "the stream to open", timeout: 60)
        // Still responsive with 300 streams open.
        let started = Date()
        let status = try #require(try RawHTTP.request(port: port, "GET", "/api/v1/status", timeout: 10))
        #expect(status.status == 200, "\(status)")
        #expect(Date().timeIntervalSince(started) < 10)
        let queued = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/backups/documents/backup"))
        #expect(queued.status == 202, "\(queued)")
        let job = try #require((try JSONSerialization.jsonObject(with: queued.body) as? [String: Any])?["job"] as? [String: Any])
        let jobID = try #require(job["id"] as? String)
        try readAll(until: { $0.contains("\"job_id\":\"\(jobID)\"") || $0.contains(jobID) && $0.contains("event: ") }, what: "an event of job \(jobID)", timeout: 90)
        streams.removeAll()
        _ = try await setup.waitForRecords(timeout: 90) { $0.first { $0.id == jobID }?.state.isFinished == true }
        #expect(try RawHTTP.request(port: port, "GET", "/api/v1/health")?.status == 200)
        await Self.stop(daemon)
    }

    // MARK: Secrets

    /// After a full run whose hooks fail and print every secret of the configuration (issue 12, item 6), no
    /// daemon log line, no API answer and no job-store row holds any of them; the hook output is there,
    /// with `***` where the secrets were.
    @Test(.enabled(if: resticAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
    func noConfiguredSecretIsLoggedRecordedOrAnswered() async throws {
        let token = "api-token-\(UUID().uuidString)"
        let secrets = [
            "repository-password-file-\(UUID().uuidString)",
            "repository-env-password-\(UUID().uuidString)",
            "aws-secret-\(UUID().uuidString)",
            "hook-env-secret-\(UUID().uuidString)",
            "hook-env-file-secret-\(UUID().uuidString)",
            "url-password-\(UUID().uuidString)",
            "header-secret-\(UUID().uuidString)",
            token,
            Self.passwordHash,
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // What a careless hook prints: every secret, one per line, all on one line, and inside JSON.
        let leak = "\(directory)/leak.txt"
        let json = "{\"" + secrets.map { $0.replacingOccurrences(of: "/", with: "\\/") }.joined(separator: "\",\"") + "\"}"
        try (secrets.joined(separator: "\n") + "\n" + secrets.joined(separator: " ") + "\n" + json + "\n").write(toFile: leak, atomically: true, encoding: .utf8)
        let keyFile = "\(directory)/api-key"
        try (secrets[4] + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        let closedPort = try freeLoopbackPort()
        let hooks = """
                hooks:
                  before:
                    - shell: "cat \(leak); cat \(leak) >&2; echo key=$API_KEY env=$HOOK_SECRET; exit 3"
                      env: { API_KEY_file: \(keyFile), HOOK_SECRET: "\(secrets[3])" }
                      on_failure: continue
                    - http:
                        url: "http://hook-user:\(secrets[5])@127.0.0.1:\(closedPort)/ping"
                        headers: { X-Token: "${HEN_E2E_HEADER}" }
                        timeout: 5s
                      on_failure: continue
                  after:
                    - shell: "cat \(leak); echo \(secrets[0]) >&2; exit 4"
                  failure:
                    - shell: "cat \(leak); exit 5"
                  finally:
                    - shell: "cat \(leak)"
            """
        let api = "auth:\n    tokens: [\"${HEN_E2E_TOKEN}\"]\n    users: [{ name: alice, password_hash: \"\(Self.passwordHash)\" }]"
        let second = "  second:\n    location: \(directory)/second-repo\n    password: \"${HEN_E2E_PASSWORD}\"\n    env: { AWS_SECRET_ACCESS_KEY: \"\(secrets[2])\" }"
        let setup = try Setup(schedule: "1w", extraBackupYAML: hooks, apiYAML: api, repositoriesYAML: second)
        defer { setup.remove() }
        try (secrets[0] + "\n").write(toFile: setup.passwordFile, atomically: true, encoding: .utf8)
        let environment = ["HEN_E2E_TOKEN": token, "HEN_E2E_PASSWORD": secrets[1], "HEN_E2E_HEADER": secrets[6]]
        let daemon = try await Self.start(setup, environment: environment)
        defer { daemon.close() }
        let port = setup.port
        let auth = [("Authorization", "Bearer \(token)")]

        // The backup at start runs its hooks, which fail; then a check of the second repository (whose
        // password came through ${VAR}) runs restic with it.
        let records = try await Self.waitForFinished(setup, count: 1)
        let backup = try #require(records.first { $0.operation == "backup" })
        let failedHooks = backup.steps.filter { $0.hook != nil && $0.state == .failed }.map(\.name)
        #expect(failedHooks.count >= 3, "\(backup.steps.map { "\($0.name) \($0.state)" })")
        let check = try #require(try RawHTTP.request(port: port, "POST", "/api/v1/repositories/second/check", headers: auth))
        #expect(check.status == 202, "\(check)")
        let all = try await Self.waitForFinished(setup, count: 2)

        // Every API answer a client could read about this run.
        var answers: [String] = []
        var paths = ["/api/v1/jobs", "/api/v1/status", "/api/v1/config", "/api/v1/backups", "/api/v1/backups/documents", "/api/v1/repositories", "/api/v1/repositories/local", "/api/v1/repositories/second", "/api/v1/snapshots", "/api/v1/health", "/metrics", "/api/v1/session"]
        for record in all { paths += ["/api/v1/jobs/\(record.id)", "/api/v1/jobs/\(record.id)/events"] }
        for path in paths {
            let answer = try #require(try RawHTTP.request(port: port, "GET", path, headers: auth), "\(path)")
            #expect(answer.status == 200, "\(path): \(answer)")
            answers.append("\(path): \(answer.text)")
        }
        // An error answer that names what the client sent.
        answers.append(try RawHTTP.request(port: port, "GET", "/api/v1/jobs/\(secrets[1])", headers: auth)?.text ?? "")
        let answered = answers.joined(separator: "\n")
        await Self.stop(daemon)

        let log = daemon.output
        let dump = try runTool("/usr/bin/sqlite3", ["\(setup.dataDirectory)/jobs.sqlite", ".dump"])
        #expect(dump.contains("INSERT INTO"), "\(dump.prefix(500))")
        for secret in secrets {
            #expect(!log.contains(secret), "the daemon log holds \(secret.prefix(24))…: \(Self.lines(of: log, containing: secret))")
            #expect(!answered.contains(secret), "an API answer holds \(secret.prefix(24))…: \(Self.lines(of: answered, containing: secret))")
            #expect(!dump.contains(secret), "the job store holds \(secret.prefix(24))…: \(Self.lines(of: dump, containing: secret))")
        }
        // The hooks did print them: the record shows where, as ***.
        let hookOutput = backup.steps.compactMap { $0.hook?.output }.joined(separator: "\n")
        #expect(hookOutput.contains("***\n***") && hookOutput.contains("key=*** env=***"), "\(hookOutput.prefix(2_000))")
        #expect(backup.log.contains { $0.message.contains("***") })
    }

    static func waitForFinished(_ setup: Setup, count: Int) async throws -> [JobRecord] {
        let deadline = Date().addingTimeInterval(120)
        while true {
            if FileManager.default.fileExists(atPath: "\(setup.dataDirectory)/jobs.sqlite") {
                let records = try await setup.records()
                if records.count >= count, records.allSatisfy(\.state.isFinished) { return records }
            }
            guard Date() < deadline else { throw DaemonTestError("Fewer than \(count) jobs finished within 120s:\n\(setup.daemonLogsWithoutWatchdog.suffix(4_000))") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func lines(of text: String, containing secret: String) -> String {
        text.split(separator: "\n").filter { $0.contains(secret) }.prefix(3).map { String($0.prefix(300)) }.joined(separator: "\n")
    }
}
