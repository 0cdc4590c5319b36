import Foundation
import HenDrivers
import HenEngineTestSupport
import HenProcess
import HenTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
@testable import HenEngine
@testable import HenServer

/// The snapshot and restore routes, in-process (`app.test(.router)`), on a real restic repository holding a
/// snapshot of this host and one of another host.
@Suite struct SnapshotRoutesTests {
    @Test func browsingRoutesAnswerAndRefuseAsDocumented() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        let mine = site.mine
        let foreign = site.foreign
        let source = site.root + "/src"
        try await app.test(.router) { client in
            let list = try await client.execute(uri: "/api/v1/snapshots", method: .get)
            #expect(list.status == .ok)
            let listJSON = try json(list)
            let items = try #require(listJSON["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["id"] as? String == mine)
            #expect(items.first?["host"] as? String == "testhost")
            #expect(items.first?["backup"] as? String == "documents")
            #expect(listJSON.keys.contains("next_cursor") && listJSON["next_cursor"] is NSNull)

            try await expectError(client, "/api/v1/snapshots?limit=many", status: .badRequest)
            try await expectError(client, "/api/v1/snapshots?repository=nowhere", status: .notFound, naming: "nowhere")
            try await expectError(client, "/api/v1/snapshots?cursor=xyz", status: .badRequest)
            // Query values are form-decoded: `+` is a space, `%2B` a plus.
            try await expectError(client, "/api/v1/snapshots?backup=no+such", status: .notFound, naming: "named no such (")
            try await expectError(client, "/api/v1/snapshots?backup=no%2Bsuch", status: .notFound, naming: "named no+such (")

            let detail = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine.prefix(8))", method: .get)
            #expect(detail.status == .ok)
            #expect(try json(detail)["id"] as? String == mine)
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(foreign)", status: .notFound, naming: foreign)
            try await expectError(client, "/api/v1/repositories/nowhere/snapshots/\(mine)", status: .notFound, naming: "nowhere")

            let tree = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)/tree?path=\(source)&limit=2", method: .get)
            #expect(tree.status == .ok)
            let treeJSON = try json(tree)
            #expect((treeJSON["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["a.txt", "dir"])
            #expect((treeJSON["items"] as? [[String: Any]])?.map { $0["type"] as? String } == ["file", "directory"])
            let cursor = try #require(treeJSON["next_cursor"] as? String)
            let rest = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)/tree?path=\(source)&cursor=\(cursor)", method: .get)
            #expect((try json(rest)["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["sub.txt"])
            #expect(try json(rest)["next_cursor"] is NSNull)
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(mine)/tree?path=\(source)&cursor=not-ours", status: .badRequest)
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(foreign)/tree?path=/", status: .notFound, naming: foreign)
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(mine)/tree?path=\(source)/a.txt", status: .unprocessableContent)
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(mine)/tree?path=\(source)%00x", status: .unprocessableContent, naming: "NUL character")
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(mine)/download?path=\(source)%00x", status: .unprocessableContent, naming: "NUL character")
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(mine)/tree?path=\(source)/gone", status: .notFound, naming: "gone")

            let file = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)/download?path=\(source)/dir/b.bin", method: .get)
            #expect(file.status == .ok)
            #expect(file.headers[.contentType] == "application/octet-stream")
            #expect(file.headers[.contentDisposition]?.contains("filename=\"b.bin\"") == true)
            #expect(Array(file.body.readableBytesView) == Array(RouteFixture.content))
            let tar = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)/download?path=\(source)/dir", method: .get)
            #expect(tar.status == .ok)
            #expect(tar.headers[.contentType] == "application/x-tar")
            #expect(tar.headers[.contentDisposition]?.contains("filename=\"dir.tar\"") == true)
            // A tar header: the member name first, the ustar magic at offset 257.
            let tarBytes = Array(tar.body.readableBytesView)
            #expect(tarBytes.count > 1024)
            #expect(tarBytes.count > 262 && String(decoding: tarBytes[257..<262], as: UTF8.self) == "ustar")
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(foreign)/download?path=\(source)/dir/b.bin", status: .notFound, naming: foreign)
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(mine)/download", status: .badRequest)
        }
    }

    /// A repository that cannot be read (a wrong password, an unreachable backend) does not hide the others' snapshots:
    /// it is named in `errors`. Asked for by name, it is the answer's error.
    @Test func anUnreadableRepositoryIsNamedAndTheOthersAreListed() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        var configuration = site.configuration
        configuration.repositories["usb"] = Configuration.Repository(name: "usb", location: site.root + "/unplugged", password: Secret("pw"), autoInit: false)
        configuration.repositories["wrong"] = Configuration.Repository(name: "wrong", location: site.root + "/repo", password: Secret("not the password"))
        let engine = Engine(configuration: configuration, registry: .standard, store: try JobStore(dataDirectory: configuration.dataDirectory), logger: Logger(label: "hen.test"))
        let app = try buildApplication(engine: engine, configuration: configuration, logger: Logger(label: "hen.test"))
        try await app.test(.router) { client in
            let list = try await client.execute(uri: "/api/v1/snapshots", method: .get)
            #expect(list.status == .ok)
            let body = try json(list)
            #expect((body["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [site.mine])
            let errors = try #require(body["errors"] as? [[String: Any]])
            // A repository not created yet has no snapshots, which is no error.
            #expect(errors.compactMap { $0["repository"] as? String } == ["wrong"])
            #expect(errors.allSatisfy { ($0["message"] as? String)?.isEmpty == false })
            #expect(!String(decoding: Array(list.body.readableBytesView), as: UTF8.self).contains("not the password"))
            let one = try await client.execute(uri: "/api/v1/snapshots?repository=wrong", method: .get)
            #expect(one.status.code >= 400)
            let healthy = try json(try await client.execute(uri: "/api/v1/snapshots?repository=local", method: .get))
            #expect((healthy["errors"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func restoreAndForgetAreJobs() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        let mine = site.mine
        let foreign = site.foreign
        let source = site.root + "/src"
        let restores = site.root + "/restores"
        let engine = site.engine
        try await app.test(.router) { client in
            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/restores", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
            }
            let accepted = try await post(#"{"repository":"local","snapshot":"\#(mine)","paths":["\#(source)/a.txt"],"target":"\#(restores)/one"}"#)
            #expect(accepted.status == .accepted)
            let job = try #require(try json(accepted)["job"] as? [String: Any])
            let id = try #require(job["id"] as? String)
            #expect(job["operation"] as? String == "restore")
            #expect(try await engine.waitForCompletion(jobID: id).state == .succeeded)
            #expect(FileManager.default.fileExists(atPath: restores + "/one" + source + "/a.txt"))

            #expect(try await post(#"{"repository":"local","snapshot":"\#(mine)","target":"\#(restores)/../x"}"#).status == .unprocessableContent)
            #expect(try await post(#"{"repository":"local","snapshot":"\#(mine)","target":"/etc"}"#).status == .unprocessableContent)
            #expect(try await post(#"{"repository":"local","snapshot":"\#(foreign)","target":"\#(restores)/two"}"#).status == .notFound)
            #expect(try await post(#"{"repository":"local","snapshot":"\#(mine)","paths":["\#(source)/gone"],"target":"\#(restores)/two"}"#).status == .notFound)
            #expect(try await post(#"{"repository":"nowhere","snapshot":"\#(mine)","target":"\#(restores)/two"}"#).status == .notFound)
            let malformed = try await post(#"{"repository":"local"#)
            #expect(malformed.status == .badRequest)
            #expect((try json(malformed)["error"] as? [String: Any])?["code"] as? String == "bad_request")

            let refused = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(foreign)", method: .delete)
            #expect(refused.status == .notFound)
            let forget = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)", method: .delete)
            #expect(forget.status == .accepted)
            let forgetID = try #require((try json(forget)["job"] as? [String: Any])?["id"] as? String)
            #expect(try await engine.waitForCompletion(jobID: forgetID).state == .succeeded)
            let empty = try await client.execute(uri: "/api/v1/snapshots", method: .get)
            #expect((try json(empty)["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func recoveryModeRefusesForgetOverHTTP() async throws {
        let site = try await RouteFixture(mode: .recovery)
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        let mine = site.mine
        try await app.test(.router) { client in
            let refused = try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)", method: .delete)
            #expect(refused.status == .forbidden || refused.status == .conflict)
            #expect((try json(refused)["error"] as? [String: Any])?["code"] as? String == "read_only")
            #expect(try await client.execute(uri: "/api/v1/repositories/local/snapshots/\(mine)/tree?path=/", method: .get).status == .ok)
        }
    }
}

func json(_ response: TestResponse) throws -> [String: Any] {
    let data = Data(Array(response.body.readableBytesView))
    let object = try JSONSerialization.jsonObject(with: data)
    return try #require(object as? [String: Any])
}

func expectError(_ client: some TestClientProtocol, _ uri: String, status: HTTPResponse.Status, naming name: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let response = try await client.execute(uri: uri, method: .get)
    #expect(response.status == status, "\(uri)", sourceLocation: sourceLocation)
    let error = try json(response)["error"] as? [String: Any]
    #expect(error?["code"] is String, sourceLocation: sourceLocation)
    if let name {
        #expect((error?["message"] as? String)?.contains(name) == true, "\(error?["message"] ?? "")", sourceLocation: sourceLocation)
    }
}

/// A temporary restic repository with one snapshot of `testhost` (`src/a.txt`, `src/dir/b.bin`,
/// `src/sub.txt`) and one of `otherhost`, and an engine on it. `close()` removes everything.
struct RouteFixture {
    static let password = "route fixture password"
    static let content = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    let root: String
    let configuration: Configuration
    let engine: Engine
    let mine: String
    let foreign: String

    init(mode: Configuration.Mode = .normal, api: Configuration.API = .init(listen: "127.0.0.1:0"), retention: RetentionPolicy? = nil) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-routes-\(UUID().uuidString.prefix(8))").path
        self.root = root
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/src/dir", withIntermediateDirectories: true)
        try files.createDirectory(atPath: root + "/restores", withIntermediateDirectories: true)
        try Data("route a\n".utf8).write(to: URL(fileURLWithPath: root + "/src/a.txt"))
        try Self.content.write(to: URL(fileURLWithPath: root + "/src/dir/b.bin"))
        try Data("route sub\n".utf8).write(to: URL(fileURLWithPath: root + "/src/sub.txt"))
        try await Self.restic(root, ["init"])
        try await Self.restic(root, ["backup", "--host", "otherhost", root + "/src"])
        try await Self.restic(root, ["backup", "--host", "testhost", "--tag", "backup=documents", root + "/src"])
        func id(_ host: String) async throws -> String {
            let line = try await Self.restic(root, ["snapshots", "--json", "--host", host]).joined()
            let array = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]]
            return try #require(array?.first?["id"] as? String)
        }
        mine = try await id("testhost")
        foreign = try await id("otherhost")
        configuration = .fixture(
            root: root,
            mode: mode,
            api: api,
            jobHistory: .init(keep: .seconds(86_400), maxJobs: 100),
            executables: ["restic": Restic.path],
            repositories: ["local": Configuration.Repository(name: "local", location: root + "/repo", password: Secret(Self.password))],
            backups: [Configuration.Backup(name: "documents", paths: [root + "/src"], repositories: ["local"], retention: retention)],
            allowedRestoreTargets: [root + "/restores"]
        )
        engine = Engine(configuration: configuration, registry: .standard, store: try JobStore(dataDirectory: configuration.dataDirectory), logger: Logger(label: "hen.test"))
    }

    @discardableResult
    static func restic(_ root: String, _ arguments: [String]) async throws -> [String] {
        var environment = ChildProcessRequest.currentEnvironment(keeping: ["PATH", "HOME", "TMPDIR"])
        environment["RESTIC_REPOSITORY"] = root + "/repo"
        environment["RESTIC_PASSWORD"] = password
        environment["RESTIC_CACHE_DIR"] = root + "/restic-cache"
        let output = Mutex<[String]>([])
        let result = try await ChildProcess.run(ChildProcessRequest(executable: Restic.path, arguments: arguments, environment: environment)) { line in
            if case .stdout(let text) = line { output.withLock { $0.append(text) } }
        }
        guard result.succeeded else { throw APIError.conflict("restic \(arguments[0]) failed: \(result.stderrTail.joined(separator: " "))") }
        return output.withLock { $0 }
    }

    func close() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
