import Foundation
import HenDrivers
import HenProcess
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import Synchronization
import Testing
@testable import HenEngine
@testable import HenServer

/// `api.auth`: bearer tokens, HTTP basic and the UI's login against bcrypt hashes (`$2y$` as `htpasswd -B`
/// writes them); open routes; auth off; read-only recovery mode; the live socket for streaming routes.
@Suite struct APIAuthTests {
    static let token = "a-token-of-at-least-16-characters"
    static let password = "correct horse"

    /// `$2y$` like htpasswd: the same hash as `$2b$`, renamed.
    static func htpasswdHash(_ password: String) -> String {
        let hash = Bcrypt.hash(password, cost: 4)
        return "$2y$" + hash.dropFirst(4)
    }

    static func securedFixture() async throws -> RouteFixture {
        let auth = Configuration.API.Auth(
            tokens: [.init(name: "ci", value: Secret(token))],
            users: [.init(name: "alice", passwordHash: Secret(htpasswdHash(password)))]
        )
        return try await RouteFixture(api: .init(listen: "127.0.0.1:0", auth: auth))
    }

    @Test func credentialsAreRequiredAndCheckedWhenAuthIsOn() async throws {
        let site = try await Self.securedFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        try await app.test(.router) { client in
            func get(_ uri: String, _ headers: HTTPFields = [:]) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .get, headers: headers)
            }
            let none = try await get("/api/v1/status")
            #expect(none.status == .unauthorized)
            #expect((try json(none)["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            #expect(none.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            #expect(try await get("/api/v1/jobs", [.authorization: "Bearer \(Self.token)"]).status == .ok)
            #expect(try await get("/api/v1/jobs", [.authorization: "Bearer \(Self.token)x"]).status == .unauthorized)
            #expect(try await get("/api/v1/jobs", [.authorization: "Bearer short"]).status == .unauthorized)
            #expect(try await get("/metrics", [.authorization: "Token \(Self.token)"]).status == .unauthorized)
            let basic = Data("alice:\(Self.password)".utf8).base64EncodedString()
            #expect(try await get("/api/v1/backups", [.authorization: "Basic \(basic)"]).status == .ok)
            let wrong = Data("alice:nope".utf8).base64EncodedString()
            let refused = try await get("/api/v1/backups", [.authorization: "Basic \(wrong)"])
            #expect(refused.status == .unauthorized)
            #expect(!String(decoding: Array(refused.body.readableBytesView), as: UTF8.self).contains("nope"))
            let stranger = Data("mallory:\(Self.password)".utf8).base64EncodedString()
            #expect(try await get("/api/v1/backups", [.authorization: "Basic \(stranger)"]).status == .unauthorized)

            // Open: health for orchestrators, the document, the login.
            #expect(try await get("/api/v1/health").status == .ok)
            #expect(try await get("/api/v1/openapi.json").status == .ok)

            // The UI's login: a session cookie that works until logout.
            let badLogin = try await client.execute(uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"name":"alice","password":"nope"}"#))
            #expect(badLogin.status == .unauthorized)
            let login = try await client.execute(uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"name":"alice","password":"\#(Self.password)"}"#))
            #expect(login.status == .ok)
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let cookie = String(setCookie.split(separator: ";")[0])
            let session = try json(try await get("/api/v1/session", [.cookie: cookie]))
            #expect(session["identity"] as? String == "user:alice")
            #expect(session["auth_required"] as? Bool == true)
            #expect(try await get("/api/v1/status", [.cookie: cookie]).status == .ok)
            #expect(try await client.execute(uri: "/api/v1/logout", method: .post, headers: [.cookie: cookie]).status == .noContent)
            #expect(try await get("/api/v1/status", [.cookie: cookie]).status == .unauthorized)
            #expect(try await get("/api/v1/status", [.cookie: "hen_session=forged"]).status == .unauthorized)

            // Wrong passwords again and again for one user from one address: 429 with Retry-After, even for
            // the right password; a token still works.
            var answers: [HTTPResponse.Status] = []
            for index in 0..<APIAuthenticator.maxFailures {
                let guess = Data("alice:guess-\(index)".utf8).base64EncodedString()
                answers.append(try await get("/api/v1/jobs", [.authorization: "Basic \(guess)"]).status)
            }
            #expect(answers.first == .unauthorized && answers.last == .tooManyRequests, "\(answers)")
            let throttled = try await get("/api/v1/jobs", [.authorization: "Basic \(basic)"])
            #expect(throttled.status == .tooManyRequests)
            #expect((try json(throttled)["error"] as? [String: Any])?["code"] as? String == "too_many_requests")
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(try await get("/api/v1/jobs", [.authorization: "Bearer \(Self.token)"]).status == .ok)
        }
    }

    @Test func withoutAuthEveryRouteIsOpen() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/api/v1/status", method: .get).status == .ok)
            let session = try json(try await client.execute(uri: "/api/v1/session", method: .get))
            #expect(session["auth_required"] as? Bool == false)
        }
    }

    /// A session ends when its user's password hash changes (a reload with a new password), and a wrong
    /// user name is refused like a wrong password.
    @Test func aChangedPasswordEndsTheSessionsMadeWithTheOldOne() async throws {
        let auth = Mutex(Configuration.API.Auth(users: [.init(name: "alice", passwordHash: Secret(Self.htpasswdHash(Self.password)))]))
        let authenticator = APIAuthenticator { auth.withLock { $0 } }
        guard case .session(let id) = await authenticator.login(user: "alice", password: Self.password) else {
            Issue.record("login failed")
            return
        }
        #expect(await authenticator.login(user: "bob", password: Self.password) == .wrong)
        #expect(await authenticator.authenticate(authorization: nil, cookie: "hen_session=\(id)") == .authenticated(identity: "user:alice"))
        auth.withLock { $0.users = [.init(name: "alice", passwordHash: Secret(Self.htpasswdHash("a new password")))] }
        #expect(await authenticator.authenticate(authorization: nil, cookie: "hen_session=\(id)") == .rejected("The session has expired; log in again."))
    }

    /// Ten wrong passwords for one user from one address within five minutes refuse that user there (even
    /// with the right password) until the oldest is five minutes old. Other users, other addresses and
    /// tokens are not affected; wrong tokens are not counted (a stale scraper must not lock anyone out).
    @Test func repeatedWrongPasswordsAreThrottledPerUserAndAddress() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let auth = Configuration.API.Auth(
            tokens: [.init(name: "ci", value: Secret(Self.token))],
            users: [
                .init(name: "alice", passwordHash: Secret(Self.htpasswdHash(Self.password))),
                .init(name: "bob", passwordHash: Secret(Self.htpasswdHash(Self.password))),
            ]
        )
        let authenticator = APIAuthenticator(configuration: { auth }, now: { clock.withLock { $0 } })
        func basic(_ user: String, _ password: String) -> String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }
        for _ in 0..<(2 * APIAuthenticator.maxFailures) {
            #expect(await authenticator.authenticate(authorization: "Bearer wrong-token-wrong-token", cookie: nil, address: "10.0.0.9") == .rejected("The bearer token is not one of api.auth.tokens."))
        }
        for attempt in 0..<APIAuthenticator.maxFailures {
            clock.withLock { $0 += 1 }
            if attempt % 2 == 0 {
                #expect(await authenticator.authenticate(authorization: basic("alice", "guess \(attempt)"), cookie: nil, address: "10.0.0.9") == .rejected("Wrong user name or password for \"alice\"."))
            } else {
                #expect(await authenticator.login(user: "alice", password: "guess \(attempt)", address: "10.0.0.9") == .wrong)
            }
        }
        // Failures 1…10 happened at +1…+10 s; now is +10 s: the first ages out at +301 s.
        #expect(await authenticator.authenticate(authorization: basic("alice", Self.password), cookie: nil, address: "10.0.0.9") == .throttled(retryAfter: 291))
        #expect(await authenticator.login(user: "alice", password: Self.password, address: "10.0.0.9") == .throttled(retryAfter: 291))
        #expect(await authenticator.authenticate(authorization: basic("alice", Self.password), cookie: nil, address: "10.0.0.10") == .authenticated(identity: "user:alice"))
        #expect(await authenticator.authenticate(authorization: basic("bob", Self.password), cookie: nil, address: "10.0.0.9") == .authenticated(identity: "user:bob"))
        #expect(await authenticator.authenticate(authorization: "Bearer \(Self.token)", cookie: nil, address: "10.0.0.9") == .authenticated(identity: "token:ci"))
        clock.withLock { $0 += 291 }
        #expect(await authenticator.login(user: "alice", password: Self.password, address: "10.0.0.9") != .throttled(retryAfter: 1))
        // One more failure fills the window again.
        #expect(await authenticator.login(user: "alice", password: "guess", address: "10.0.0.9") == .wrong)
        #expect(await authenticator.login(user: "alice", password: Self.password, address: "10.0.0.9") == .throttled(retryAfter: 1))
    }

    /// bcrypt reads a password up to its first NUL, so "correct horse\0anything" would pass for the right
    /// password: a NUL in a user name or password is refused before bcrypt sees it (basic auth and login).
    @Test func aNULInAUserNameOrPasswordIsRefusedBeforeBcrypt() async throws {
        let auth = Configuration.API.Auth(users: [.init(name: "alice", passwordHash: Secret(Self.htpasswdHash(Self.password)))])
        let authenticator = APIAuthenticator { auth }
        func basic(_ user: String, _ password: String) -> String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }
        #expect(await authenticator.authenticate(authorization: basic("alice", Self.password), cookie: nil) == .authenticated(identity: "user:alice"))
        #expect(await authenticator.authenticate(authorization: basic("alice", Self.password + "\0anything"), cookie: nil) == .rejected(APIAuthenticator.nulMessage))
        #expect(await authenticator.authenticate(authorization: basic("alice\0x", Self.password), cookie: nil) == .rejected(APIAuthenticator.nulMessage))
        #expect(await authenticator.login(user: "alice", password: Self.password + "\0anything") == .wrong)
        let long = "Basic " + String(repeating: "A", count: APIAuthenticator.maxAuthorizationLength)
        #expect(await authenticator.authenticate(authorization: long, cookie: nil) == .rejected("The Authorization header is longer than \(APIAuthenticator.maxAuthorizationLength) bytes."))
    }

    @Test func tokensComparedInConstantTimeStillMatchExactly() {
        #expect(APIAuthenticator.constantTimeEquals("abc", "abc"))
        #expect(!APIAuthenticator.constantTimeEquals("abc", "abd"))
        #expect(!APIAuthenticator.constantTimeEquals("abc", "abcd"))
        #expect(!APIAuthenticator.constantTimeEquals("", "a"))
        #expect(APIAuthenticator.cLibraryHash("$2y$05$abc") == "$2b$05$abc")
    }

    @Test func recoveryModeRefusesEveryWriteWith409AndStillRestoresAndChecks() async throws {
        let site = try await RouteFixture(mode: .recovery)
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        let mine = site.mine
        try await app.test(.router) { client in
            for uri in ["/api/v1/backups/documents/backup", "/api/v1/backups/documents/prune", "/api/v1/repositories/local/unlock"] {
                let refused = try await client.execute(uri: uri, method: .post)
                #expect(refused.status == .conflict, "\(uri)")
                let error = try json(refused)["error"] as? [String: Any]
                #expect(error?["code"] as? String == "read_only", "\(uri)")
                #expect((error?["message"] as? String)?.contains("recovery mode") == true)
            }
            #expect(try json(try await client.execute(uri: "/api/v1/status", method: .get))["mode"] as? String == "recovery")
            // An unknown name is still "not found", whatever the mode.
            #expect(try await client.execute(uri: "/api/v1/backups/pictures/backup", method: .post).status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/repositories/ovh/unlock", method: .post).status == .notFound)
            let restore = try await client.execute(
                uri: "/api/v1/restores", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"repository":"local","snapshot":"\#(mine)","target":"\#(site.root)/restores/r"}"#)
            )
            #expect(restore.status == .accepted)
            let id = try #require((try json(restore)["job"] as? [String: Any])?["id"] as? String)
            #expect(try await site.engine.waitForCompletion(jobID: id).state == .succeeded)
            // A check only reads, without a lock.
            let check = try await client.execute(uri: "/api/v1/repositories/local/check", method: .post)
            #expect(check.status == .accepted)
            let checkID = try #require((try json(check)["job"] as? [String: Any])?["id"] as? String)
            #expect(try await site.engine.waitForCompletion(jobID: checkID).state == .succeeded)
        }
    }

    /// The streaming routes over a real socket: a download arrives whole, and a job's events follow it live
    /// until it ends.
    @Test func downloadAndEventsStreamOverALiveSocket() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        let source = site.root + "/src"
        let mine = site.mine
        try await app.test(.live) { client in
            // Downloads run restic (dump) while the answer streams: as long as restic takes on a loaded machine.
            let file = try await getUntilClosed(client, uri: "/api/v1/repositories/local/snapshots/\(mine)/download?path=\(source)/dir/b.bin")
            #expect(file.status == .ok)
            #expect(Array((file.body ?? ByteBuffer()).readableBytesView) == Array(RouteFixture.content))
            let tar = try await getUntilClosed(client, uri: "/api/v1/repositories/local/snapshots/\(mine)/download?path=\(source)")
            #expect(tar.headers[.contentType] == "application/x-tar")
            #expect((tar.body?.readableBytes ?? 0) > RouteFixture.content.count)

            let check = try json(try await client.execute(uri: "/api/v1/repositories/local/check", method: .post))
            let checkID = try #require((check["job"] as? [String: Any])?["id"] as? String)
            let backup = try json(try await client.execute(uri: "/api/v1/backups/documents/backup", method: .post))
            let backupID = try #require((backup["job"] as? [String: Any])?["id"] as? String)
            // Asked for while the backup still waits behind the check: the stream follows it to its end.
            let events = try await getUntilClosed(client, uri: "/api/v1/jobs/\(backupID)/events")
            let frames = try sseFrames(events)
            let states = frames.filter { $0.type == "state" }.compactMap { $0.data["state"] as? String }
            #expect(states.first == "queued")
            #expect(states.contains("running"))
            #expect(states.last == "succeeded")
            #expect(frames.contains { $0.type == "step_started" })
            #expect(frames.allSatisfy { $0.data["job_id"] as? String == backupID })
            _ = try await site.engine.waitForCompletion(jobID: checkID)
        }
    }

    /// `GET /events` follows every job over a live socket, heartbeats included, until the engine closes it.
    @Test func theEventStreamOfEveryJobFollowsJobsUntilTheEngineCloses() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let engine = site.engine
        let router = Router(context: HenRequestContext.self)
        // A heartbeat far shorter than the wait below, so that a loaded machine still sees several.
        JobRoutes(engine: engine, heartbeat: .milliseconds(20)).register(on: router.group("api/v1"))
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            async let streamed = getUntilClosed(client, uri: "/api/v1/events")
            // The stream subscribes when the request arrives; a job queued after that is in it.
            var id: String?
            for _ in 0..<50 where id == nil {
                try await Task.sleep(for: .milliseconds(100))
                if await engine.subscribers.count > 0 {
                    id = try await engine.submit(JobRequest(operation: .backup(backup: "documents", repositories: nil), trigger: .api)).id
                }
            }
            let jobID = try #require(id, "the event stream never subscribed")
            #expect(try await engine.waitForCompletion(jobID: jobID).state == .succeeded)
            try await Task.sleep(for: .milliseconds(500))
            await engine.shutdown(grace: .zero)
            let response = try await streamed
            let text = String(decoding: Array((response.body ?? ByteBuffer()).readableBytesView), as: UTF8.self)
            #expect(text.contains(": keep-alive"))
            let states = try sseFrames(response).filter { $0.type == "state" && $0.data["job_id"] as? String == jobID }.compactMap { $0.data["state"] as? String }
            #expect(states == ["queued", "running", "succeeded"])
        }
    }
}
