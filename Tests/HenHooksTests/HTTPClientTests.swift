import Foundation
import Synchronization
import Testing
@testable import HenHooks

@Suite("HTTPClient on libcurl against a real local server")
struct HTTPClientTests {
    let client = HTTPClient()

    @Test func postsMethodHeadersAndBodyAndReadsTheResponse() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(
            method: "POST",
            url: server.url("/hook?token=abc"),
            headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Token", "s3cret")],
            body: Array(#"{"a":1}"#.utf8)
        ))
        #expect(response.status == 200)
        #expect(response.bodyText == "ok\n")
        #expect(response.header("x-test-server") == "hen")
        let recorded = try await server.requests()
        #expect(recorded.count == 1)
        #expect(recorded[0].method == "POST")
        #expect(recorded[0].path == "/hook?token=abc")
        #expect(recorded[0].header("X-Token") == "s3cret")
        #expect(recorded[0].header("Content-Type") == "application/json")
        #expect(recorded[0].header("Expect") == nil)
        #expect(recorded[0].bodyText == #"{"a":1}"#)
    }

    @Test func customMethodsAndEmptyBodies() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        _ = try await client.send(HTTPRequest(method: "PUT", url: server.url("/put"), body: Array("x".utf8)))
        _ = try await client.send(HTTPRequest(method: "POST", url: server.url("/empty")))
        _ = try await client.send(HTTPRequest(method: "DELETE", url: server.url("/gone")))
        let recorded = try await server.requests()
        #expect(recorded.map(\.method) == ["PUT", "POST", "DELETE"])
        #expect(recorded[0].bodyText == "x")
        #expect(recorded[0].header("Content-Type") == "application/octet-stream")
        #expect(recorded[1].header("Content-Length") == "0")
        #expect(recorded[1].header("Content-Type") == nil)
    }

    @Test func nonSuccessStatusIsAResponseNotAnError() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(url: server.url("/status/503")))
        #expect(response.status == 503)
        #expect(response.bodyText == "status 503\n")
    }

    @Test func bodyIsBoundedButFullyRead() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(url: server.url("/bytes/100000"), maxBodyBytes: 1000))
        #expect(response.body.count == 1000)
        #expect(response.bodyTruncated)
        #expect(response.bodyBytesReceived == 100_000)
    }

    @Test func streamingHandsOverEveryChunkWithTheHead() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let received = Mutex<(count: Int, statuses: Set<Int>)>((0, []))
        let response = try await client.send(HTTPRequest(url: server.url("/status/201/bytes/300000"))) { head, bytes in
            received.withLock {
                $0.count += bytes.count
                $0.statuses.insert(head.status)
            }
        }
        #expect(response.status == 201)
        #expect(response.body.isEmpty)
        received.withLock {
            #expect($0.count == 300_000)
            #expect($0.statuses == [201])
        }
    }

    @Test func redirectsAreFollowedOnlyWhenAsked() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let stay = try await client.send(HTTPRequest(url: server.url("/redirect/landed")))
        #expect(stay.status == 302)
        #expect(stay.header("Location") == "/landed")
        let follow = try await client.send(HTTPRequest(url: server.url("/redirect/landed"), followRedirects: true))
        #expect(follow.status == 200)
        #expect(follow.header("Location") == nil)
    }

    @Test func timeoutIsReportedAsTimeout() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let started = ContinuousClock.now
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(url: server.url("/sleep/600000"), timeout: .milliseconds(300)))
        }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(300))  // not the server's 600 s; no tighter bound on a shared machine
    }

    @Test func connectionRefusedIsConnectionFailed() async throws {
        // A port that was just free: bind nothing to it.
        let server = try await TestHTTPServer.start()
        let url = server.url("/")
        server.stop()
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(url: url))
        }
        #expect(error?.code == .connectionFailed)
    }

    @Test func cancellationAbortsASlowRequest() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let url = server.url("/sleep/600000")
        let client = client
        let task = Task { () async throws(HTTPClientError) -> HTTPResponse in
            try await client.send(HTTPRequest(url: url, timeout: .seconds(600)))
        }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("a cancelled request returned a response")
            return
        }
        #expect((error as? HTTPClientError)?.code == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(300))  // not the server's 600 s; no tighter bound on a shared machine
    }

    @Test func errorsNeverShowCredentialsQueriesOrHeaderValues() async throws {
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(
                url: "http://user:hunter2@127.0.0.1:1/path?token=abc",
                headers: [HTTPHeader("Authorization", "Bearer topsecret")],
                timeout: .seconds(2)
            ))
        }
        let message = try #require(error).message
        #expect(message.contains("http://127.0.0.1:1/path"))
        #expect(!message.contains("hunter2"))
        #expect(!message.contains("token=abc"))
        #expect(!message.contains("topsecret"))
        let injected = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:1/", headers: [HTTPHeader("X", "a\r\nEvil: yes")]))
        }
        #expect(injected?.code == .invalidRequest)
        #expect(injected?.message.contains("Evil") == false)
    }

    @Test func onlyHTTPAndHTTPSAreAllowed() async throws {
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(url: "file:///etc/passwd"))
        }
        #expect(error?.code == .invalidURL)
    }

    @Test func tlsVerificationRefusesASelfSignedCertificateUnlessTrusted() async throws {
        let certificate = try await TestCertificate.make()
        defer { certificate.remove() }
        let server = try await TestHTTPServer.start(tls: certificate)
        defer { server.stop() }

        let refused = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(url: server.url("/secure")))
        }
        #expect(refused?.code == .tls)

        let trusted = try await client.send(HTTPRequest(url: server.url("/secure"), caFile: certificate.certificatePath))
        #expect(trusted.status == 200)

        let insecure = try await client.send(HTTPRequest(url: server.url("/secure"), insecure: true))
        #expect(insecure.status == 200)

        let missingCA = await #expect(throws: HTTPClientError.self) {
            _ = try await client.send(HTTPRequest(url: server.url("/secure"), caFile: certificate.directory + "/missing.pem"))
        }
        #expect(missingCA?.code == .tls)
        #expect(try await server.requests().count == 2)
    }

    @Test func unixDomainSocket() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/api.sock"
        let server = try await TestHTTPServer.start(unixSocket: socket)
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(method: "POST", url: "http://daemon/api/echo", body: Array("over a socket".utf8), unixSocketPath: socket))
        #expect(response.status == 200)
        #expect(response.bodyText == "over a socket")
    }

    @Test func displayURLStripsCredentialsQueryAndFragment() {
        #expect(displayURL("https://u:p@example.com:8443/a/b?x=1#f") == "https://example.com:8443/a/b")
        #expect(displayURL("http://example.com?x=1") == "http://example.com")
        #expect(urlUserinfo("https://u:p@example.com/") == "u:p")
        #expect(urlUserinfo("https://example.com/a@b") == nil)
    }
}
