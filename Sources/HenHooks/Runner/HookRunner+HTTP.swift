import Foundation
import Logging

extension HookRunner {
    /// Methods that get the default JSON body when the definition has none.
    private static let methodsWithDefaultBody: Set<String> = ["POST", "PUT", "PATCH"]

    func runHTTP(
        _ hook: HTTPHook,
        name: String,
        index: Int,
        phase: HookPhase,
        policy: HookFailurePolicy,
        context: HookContext,
        logger: Logger
    ) async -> HookStepResult {
        let start = Date()
        let method = hook.method.uppercased()
        let url = HookTemplate.expand(hook.url, context: context, escaping: .url)
        var headers = hook.headers
            .sorted { $0.key < $1.key }
            .map { HTTPHeader($0.key, HookTemplate.expand($0.value.value, context: context, escaping: .header)) }
        let secrets = HookSecrets(http: hook, expandedHeaderValues: headers.map(\.value), expandedURL: url)

        var body: [UInt8]?
        var contentType: String?
        switch hook.body {
        case .none:
            if Self.methodsWithDefaultBody.contains(method) {
                body = context.defaultJSONBody(phase: phase)
                contentType = "application/json"
            }
        case .json(let template):
            body = Array(HookTemplate.expand(template, context: context, escaping: .json).utf8)
            contentType = "application/json"
        case .text(let template):
            body = Array(HookTemplate.expand(template, context: context, escaping: .none).utf8)
            contentType = "text/plain; charset=utf-8"
        }
        if let contentType, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(HTTPHeader("Content-Type", contentType))
        }
        let request = HTTPRequest(
            method: method,
            url: url,
            headers: headers,
            body: body,
            timeout: hook.timeout > 0 ? .milliseconds(Int64((hook.timeout * 1000).rounded())) : nil,
            caFile: hook.caFile,
            insecure: hook.insecure,
            followRedirects: true,
            maxBodyBytes: outputLimit
        )

        var step = HookStepResult(name: name, index: index, phase: phase, policy: policy, start: start, end: start, outcome: .failed, attempts: 0)
        let maxAttempts = 1 + max(0, hook.retries)
        for attempt in 1...maxAttempts {
            if attempt > 1 {
                let wait = retryBackoff * (1 << min(attempt - 2, 20))
                logger.info("hook retry", metadata: ["attempt": "\(attempt)", "backoff_ms": "\(wait.curlMilliseconds)"])
                do {
                    try await clock.sleep(for: wait, tolerance: nil)
                } catch {
                    step.cancelled = true
                    step.error = "The HTTP hook was stopped because the job was cancelled."
                    break
                }
            }
            step.attempts = attempt
            do throws(HTTPClientError) {
                let response = try await httpClient.send(request)
                step.httpStatus = response.status
                step.output = secrets.redact(response.bodyText)
                step.outputTruncated = response.bodyTruncated
                if Self.accepts(response.status, expected: hook.expectStatus) {
                    step.outcome = .succeeded
                    step.error = nil
                    step.timedOut = false
                    break
                }
                step.error = "The server answered HTTP \(response.status), expected \(Self.describe(hook.expectStatus))."
                step.timedOut = false
                if !Self.isRetryable(status: response.status) { break }
            } catch {
                step.error = secrets.redact(error.message)
                step.timedOut = error.code == .timeout
                if error.code == .cancelled {
                    step.cancelled = true
                    break
                }
                if !Self.isRetryable(error.code) { break }
            }
        }
        step.end = Date()
        return step
    }

    static func accepts(_ status: Int, expected: [Int]) -> Bool {
        expected.isEmpty ? (200...299).contains(status) : expected.contains(status)
    }

    private static func describe(_ expected: [Int]) -> String {
        switch expected.count {
        case 0: "a 2xx status"
        case 1: "\(expected[0])"
        default: "one of " + expected.map(String.init).joined(separator: ", ")
        }
    }

    /// Worth another try: the server is overloaded, restarting or slow. A 4xx other than these will
    /// answer the same again.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 425 || status == 429 || (500...599).contains(status)
    }

    /// Worth another try: the network or the server. Not: a wrong URL, TLS trust, our own request.
    static func isRetryable(_ code: HTTPClientError.Code) -> Bool {
        switch code {
        case .timeout, .connectionFailed, .transferFailed: true
        case .invalidURL, .invalidRequest, .tls, .cancelled, .tooManyRedirects, .internalError: false
        }
    }
}
