import Foundation
import Testing
import HenProcess
@testable import HenHooks

@Suite("HTTP hooks against a real local server")
struct HookRunnerHTTPTests {
    private func runOne(_ hook: HTTPHook, policy: HookFailurePolicy = .continue, runner: HookRunner = testRunner(), phase: HookPhase = .before) async -> (HookPhaseOutcome, HookStepResult) {
        let outcome = await runner.run([HookDefinition(action: .http(hook), onFailure: policy)], phase: phase, context: testContext()) { _ in }
        return (outcome, outcome.steps[0])
    }

    @Test func successSendsPlaceholdersHeadersAndTheDefaultBody() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let hook = HTTPHook(
            url: server.url("/dump/{{job.backup}}?job={{job.id}}"),
            headers: ["Authorization": Secret("Bearer tok-{{job.id}}"), "X-Host": Secret("{{hostname}}")]
        )
        let (outcome, step) = await runOne(hook)
        #expect(step.outcome == .succeeded)
        #expect(step.httpStatus == 200)
        #expect(step.attempts == 1)
        #expect(step.output == "ok\n")
        #expect(step.name == "before[0] http POST http://127.0.0.1:\(server.port)/dump/{{job.backup}}")
        #expect(!outcome.failed && !outcome.broke && outcome.warnings.isEmpty)

        let recorded = try await server.requests()
        #expect(recorded.count == 1)
        #expect(recorded[0].method == "POST")
        #expect(recorded[0].path == "/dump/grafana%20db?job=job-42")
        #expect(recorded[0].header("Authorization") == "Bearer tok-job-42")
        #expect(recorded[0].header("X-Host") == "laptop")
        #expect(recorded[0].header("Content-Type") == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(recorded[0].bodyText.utf8)) as? [String: Any])
        #expect(body["phase"] as? String == "before")
        #expect((body["job"] as? [String: Any])?["id"] as? String == "job-42")
    }

    @Test func jsonAndTextBodiesAndGETWithoutBody() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        _ = await runOne(HTTPHook(url: server.url("/json"), body: .json(#"{"msg":"{{job.backup}} on {{hostname}}"}"#)))
        _ = await runOne(HTTPHook(url: server.url("/text"), method: "put", body: .text("done {{job.snapshot_ids}}")))
        _ = await runOne(HTTPHook(url: server.url("/ping"), method: "GET"))
        let recorded = try await server.requests()
        #expect(recorded.map(\.method) == ["POST", "PUT", "GET"])
        #expect(recorded[0].bodyText == #"{"msg":"grafana db on laptop"}"#)
        #expect(recorded[0].header("Content-Type") == "application/json")
        #expect(recorded[1].bodyText == "done abc123,def456")
        #expect(recorded[1].header("Content-Type") == "text/plain; charset=utf-8")
        #expect(recorded[2].bodyText.isEmpty)
    }

    @Test func nonSuccessStatusFailsWithTheStatus() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let (outcome, step) = await runOne(HTTPHook(url: server.url("/status/404"), retries: 3))
        #expect(step.outcome == .failed)
        #expect(step.httpStatus == 404)
        #expect(step.attempts == 1)  // a 404 does not get better by asking again
        #expect(step.error == "The server answered HTTP 404, expected a 2xx status.")
        #expect(outcome.failed)
        #expect(outcome.error?.contains("HTTP 404") == true)
    }

    @Test func expectStatusOverridesTheDefault() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let (_, accepted) = await runOne(HTTPHook(url: server.url("/status/409"), expectStatus: [200, 409]))
        #expect(accepted.outcome == .succeeded)
        let (_, refused) = await runOne(HTTPHook(url: server.url("/status/204"), expectStatus: [200]))
        #expect(refused.outcome == .failed)
        #expect(refused.error == "The server answered HTTP 204, expected 200.")
    }

    @Test func timeoutIsAFailure() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let (outcome, step) = await runOne(HTTPHook(url: server.url("/sleep/20000"), timeout: 0.3), policy: .break)
        #expect(step.outcome == .failed)
        #expect(step.timedOut)
        #expect(step.httpStatus == nil)
        #expect(step.error?.contains("timed out after 300 ms") == true)
        #expect(outcome.broke)
    }

    @Test func retriesWithExponentialBackoffThenSucceeds() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let clock = RecordingClock()
        let (outcome, step) = await runOne(HTTPHook(url: server.url("/flaky/3"), retries: 3), runner: testRunner(clock: clock))
        #expect(step.outcome == .succeeded)
        #expect(step.attempts == 4)
        #expect(step.httpStatus == 200)
        #expect(clock.sleeps == [.seconds(1), .seconds(2), .seconds(4)])
        #expect(!outcome.failed)
        #expect(try await server.requests().count == 4)
    }

    @Test func retriesRunOutAndTheLastAnswerIsReported() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let clock = RecordingClock()
        let (_, step) = await runOne(HTTPHook(url: server.url("/flaky/5"), retries: 2), runner: testRunner(clock: clock))
        #expect(step.outcome == .failed)
        #expect(step.attempts == 3)
        #expect(step.httpStatus == 503)
        #expect(clock.sleeps == [.seconds(1), .seconds(2)])
    }

    @Test func tlsIsVerifiedUnlessCAFileOrInsecureIsGiven() async throws {
        let certificate = try await TestCertificate.make()
        defer { certificate.remove() }
        let server = try await TestHTTPServer.start(tls: certificate)
        defer { server.stop() }
        let (_, refused) = await runOne(HTTPHook(url: server.url("/tls"), retries: 2))
        #expect(refused.outcome == .failed)
        #expect(refused.attempts == 1)  // not retried: trust will not change by itself
        #expect(refused.error?.contains("TLS") == true)
        let (_, trusted) = await runOne(HTTPHook(url: server.url("/tls"), caFile: certificate.certificatePath))
        #expect(trusted.outcome == .succeeded)
        let (_, insecure) = await runOne(HTTPHook(url: server.url("/tls"), insecure: true))
        #expect(insecure.outcome == .succeeded)
        #expect(try await server.requests().count == 2)
    }

    @Test func secretsAreRedactedFromOutputAndNames() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let hook = HTTPHook(
            url: "http://hen:pa55word@127.0.0.1:\(server.port)/echo?token=qwerty",
            headers: ["X-Api-Key": Secret("key-0123456789")],
            body: .text("user pa55word with key-0123456789 and job {{job.id}}")
        )
        let (_, step) = await runOne(hook)
        #expect(step.outcome == .succeeded)
        #expect(step.output == "user *** with *** and job job-42")
        #expect(!step.name.contains("pa55word") && !step.name.contains("qwerty"))
        let recorded = try await server.requests()
        #expect(recorded[0].header("Authorization")?.hasPrefix("Basic ") == true)  // userinfo became basic auth
    }

    @Test func connectionRefusedIsRetriedAndFails() async throws {
        let server = try await TestHTTPServer.start()
        let url = server.url("/gone")
        server.stop()
        let clock = RecordingClock()
        let (outcome, step) = await runOne(HTTPHook(url: url, retries: 1), policy: .ignore, runner: testRunner(clock: clock))
        #expect(step.outcome == .failed)
        #expect(step.attempts == 2)
        #expect(step.error?.hasPrefix("Could not connect to") == true)
        #expect(outcome.warnings.count == 1)
        #expect(!outcome.failed && !outcome.broke)
    }

    @Test func cancellationStopsTheRequestAndSkipsTheRest() async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        let runner = testRunner()
        let hooks = [
            HookDefinition(action: .http(HTTPHook(url: server.url("/sleep/20000"), timeout: 60)), onFailure: .break),
            HookDefinition(action: .http(HTTPHook(url: server.url("/never")))),
        ]
        let task = Task { await runner.run(hooks, phase: .before, context: testContext()) { _ in } }
        // Cancelled once the server has the request (a loaded machine may take seconds to get there).
        let deadline = Date().addingTimeInterval(30)
        while (try? await server.requests().isEmpty) != false, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        let outcome = await task.value
        #expect(outcome.cancelled)
        #expect(!outcome.broke && !outcome.failed)
        #expect(outcome.steps.map(\.outcome) == [.failed, .skipped])
        #expect(outcome.steps[0].cancelled)
        #expect(try await server.requests().map(\.path) == ["/sleep/20000"])
    }
}
