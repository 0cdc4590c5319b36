import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import HenEngine
@testable import HenServer

/// The web UI's files as HenServer serves them (the pages themselves are tested in a real browser by
/// `Tests/WebUI/browser_test.py`): from the package's resources, with an ETag from their content, revalidated
/// every time, a Content-Security-Policy of this origin only, nosniff; open without credentials; and what the
/// UI needs of the API: `GET /session` without credentials.
@Suite struct WebUITests {
    static let logger = Logger(label: "hen.test") { _ in SwiftLogNoOpLogHandler() }

    /// The files in the repository, read from the source tree (the test checks the bundle serves them).
    static var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/HenServer/Resources/ui")
    }

    @Test func everyFileIsServedAsItIsInTheRepositoryWithCachingAndSecurityHeaders() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.sourceDirectory.path).sorted()
        #expect(names.contains("index.html") && names.contains("app.js") && names.contains("app.css"))
        #expect(Set(WebUI.assets.keys) == Set(names), "every file of Resources/ui has a type the server knows")
        let total = try names.reduce(0) { $0 + (try Data(contentsOf: Self.sourceDirectory.appendingPathComponent($1)).count) }
        #expect(total <= 150 * 1024, "the UI's files weigh \(total) bytes, over 150 KB")

        let site = try await RouteFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            for name in names {
                let answer = try await client.execute(uri: "/ui/\(name)", method: .get)
                #expect(answer.status == .ok, "\(name)")
                let expected = try Data(contentsOf: Self.sourceDirectory.appendingPathComponent(name))
                #expect(Data(answer.body.readableBytesView) == expected, "\(name) differs from the repository's")
                #expect(answer.headers[.cacheControl] == "no-cache")
                #expect(answer.headers[.xContentTypeOptions] == "nosniff")
                let etag = try #require(answer.headers[.eTag])
                #expect(etag.hasPrefix("\"") && etag.count == 18)
                // The same bytes, the same tag: a revalidation is 304 without a body.
                let again = try await client.execute(uri: "/ui/\(name)", method: .get, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified)
                #expect(again.body.readableBytes == 0)
                #expect(again.headers[.eTag] == etag)
                let stale = try await client.execute(uri: "/ui/\(name)", method: .get, headers: [.ifNoneMatch: "\"0000000000000000\""])
                #expect(stale.status == .ok)
            }
            #expect(try await client.execute(uri: "/ui/app.js", method: .get).headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(try await client.execute(uri: "/ui/app.css", method: .get).headers[.contentType] == "text/css; charset=utf-8")

            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"))
            #expect(!csp.contains("unsafe-inline") && !csp.contains("http"))
            let html = String(decoding: Array(page.body.readableBytesView), as: UTF8.self)
            // No inline script: every <script> loads a file of this origin.
            #expect(!html.contains("<script>") && html.contains(#"<script type="module" src="/ui/app.js"></script>"#))
            #expect(!html.contains("http://") && !html.contains("https://"), "nothing from another origin")

            try await expectError(client, "/ui/missing.js", status: .notFound, naming: "missing.js")
            try await expectError(client, "/ui/..%2FResources%2Fopenapi.json", status: .notFound)
            // Every answer is nosniff, API answers and errors too.
            #expect(try await client.execute(uri: "/api/v1/status", method: .get).headers[.xContentTypeOptions] == "nosniff")
            #expect(try await client.execute(uri: "/api/v1/jobs/none", method: .get).headers[.xContentTypeOptions] == "nosniff")
        }
    }

    @Test func theFilesNeedNoCredentialsTheDataDoesAndSessionAnswersWithout() async throws {
        let site = try await APIAuthTests.securedFixture()
        defer { site.close() }
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Self.logger)
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/ui/app.js", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/v1/status", method: .get).status == .unauthorized)
            // Without credentials, who am I is an answer: nobody yet, auth required (the UI shows its login).
            let anonymous = try await client.execute(uri: "/api/v1/session", method: .get)
            #expect(anonymous.status == .ok)
            let session = try json(anonymous)
            #expect(session["auth_required"] as? Bool == true)
            #expect(session.keys.contains("identity") && session["identity"] is NSNull)
            // Credentials that are sent are still checked.
            #expect(try await client.execute(uri: "/api/v1/session", method: .get, headers: [.authorization: "Bearer wrong-token-wrong-token"]).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/session", method: .get, headers: [.cookie: "hen_session=forged"]).status == .unauthorized)
            // A browser that gets a Basic challenge opens its own password dialog and holds the request: the UI's
            // requests and event streams get none (scripts still do).
            #expect(try await client.execute(uri: "/api/v1/status", method: .get).headers[.wwwAuthenticate] != nil)
            let fromUI = try await client.execute(uri: "/api/v1/status", method: .get, headers: [HTTPField.Name("X-Hen-Client")!: "ui"])
            #expect(fromUI.status == .unauthorized && fromUI.headers[.wwwAuthenticate] == nil)
            let wrongLogin = try await client.execute(uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json", HTTPField.Name("X-Hen-Client")!: "ui"], body: ByteBuffer(string: #"{"name":"alice","password":"nope"}"#))
            #expect(wrongLogin.status == .unauthorized && wrongLogin.headers[.wwwAuthenticate] == nil)
            let stream = try await client.execute(uri: "/api/v1/events", method: .get, headers: [.accept: "text/event-stream"])
            #expect(stream.status == .unauthorized && stream.headers[.wwwAuthenticate] == nil)
            let token = try json(try await client.execute(uri: "/api/v1/session", method: .get, headers: [.authorization: "Bearer \(APIAuthTests.token)"]))
            #expect(token["identity"] as? String == "token:ci")
        }
    }
}
