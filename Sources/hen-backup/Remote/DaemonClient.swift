import Foundation
import HenEngine
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The CLI's side of the HTTP API: JSON requests with the bearer token, API errors turned into their one
/// sentence, and server-sent events read as they arrive.
struct DaemonClient: Sendable {
    let baseURL: URL
    let token: String?
    /// The zone the command shows the daemon's times in: the configuration's `timezone` when a configuration
    /// named the daemon, else this machine's (`--remote`).
    var timeZone: TimeZone = .current

    /// `http://127.0.0.1:8420` from `api.listen` (a wildcard address is reached on loopback).
    static func url(listen: String) -> URL? {
        var host = String(listen[..<(listen.lastIndex(of: ":") ?? listen.endIndex)])
        let port = listen[(listen.lastIndex(of: ":").map { listen.index(after: $0) } ?? listen.endIndex)...]
        if host == "0.0.0.0" || host.isEmpty { host = "127.0.0.1" }
        if host == "[::]" || host == "::" { host = "[::1]" }
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
        return URL(string: "http://\(host):\(port)")
    }

    struct Failure: Error, CustomStringConvertible {
        /// The HTTP status, nil when the daemon could not be reached at all.
        var status: Int?
        var code: String?
        var message: String
        var description: String { message }
    }

    /// The daemon answers (anything, even 401): there is one to talk to. Nil when nothing listens.
    func probe() async -> Int? {
        var request = URLRequest(url: endpoint("/api/v1/health"))
        request.timeoutInterval = 3
        let session = makeSession()
        defer { session.finishTasksAndInvalidate() }
        do {
            let (_, response) = try await session.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode
        } catch {
            return nil
        }
    }

    /// Sends a request; a 2xx answer's body is returned, anything else throws ``Failure`` with the API's message.
    func send(_ method: String, _ path: String, query: [String: String?] = [:], body: (any Encodable)? = nil) async throws -> Data {
        var request = URLRequest(url: endpoint(path, query: query))
        request.httpMethod = method
        request.timeoutInterval = 120
        authorize(&request)
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONEncoder().encode(body)
        }
        let data: Data
        let response: URLResponse
        let session = makeSession()
        defer { session.finishTasksAndInvalidate() }
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError where error.code == .cancelled && !Task.isCancelled {
            // FoundationNetworking ends a 401 that asks for credentials (WWW-Authenticate) this way.
            throw Self.unauthorized(baseURL)
        } catch {
            throw Failure(status: nil, code: nil, message: "The daemon at \(baseURL.absoluteString) did not answer: \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw Self.failure(status: status, data: data) }
        return data
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String, query: [String: String?] = [:]) async throws -> T {
        try decode(type, try await send("GET", path, query: query))
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try JobRecord.jsonDecoder().decode(type, from: data)
        } catch {
            throw Failure(status: nil, code: nil, message: "The daemon's answer is not what this CLI expects (is it another version?): \(error)")
        }
    }

    /// Server-sent events of `path`, decoded; ends when the daemon closes the stream.
    func events(_ path: String) -> AsyncThrowingStream<JobEvent, any Error> {
        var request = URLRequest(url: endpoint(path))
        request.timeoutInterval = 3600
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        authorize(&request)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: JobEvent.self, throwing: (any Error).self)
        let delegate = EventStreamDelegate(continuation: continuation, baseURL: baseURL)
        let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        continuation.onTermination = { _ in
            task.cancel()
            session.finishTasksAndInvalidate()
        }
        task.resume()
        return stream
    }

    // MARK: Helpers

    /// A session that never waits for credentials: a 401 is an answer, not a question (FoundationNetworking
    /// otherwise holds a 401 with `WWW-Authenticate` open, waiting for a delegate to supply a password).
    private func makeSession() -> URLSession { URLSession(configuration: .ephemeral, delegate: NoChallenges(), delegateQueue: nil) }

    private func endpoint(_ path: String, query: [String: String?] = [:]) -> URL {
        var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
        components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + path
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }.sorted { $0.name < $1.name }
        if !items.isEmpty {
            components.queryItems = items
            // URLComponents leaves `+` as is, and the daemon reads `+` as a space (form encoding).
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        return components.url!
    }

    private func authorize(_ request: inout URLRequest) {
        // Jobs the CLI queues are recorded with trigger `cli`.
        request.setValue("cli", forHTTPHeaderField: "X-Hen-Client")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    }

    static func unauthorized(_ url: URL) -> Failure {
        Failure(status: 401, code: "unauthorized", message: "The daemon at \(url.absoluteString) refused the credentials: give a token of its api.auth.tokens with --token or HEN_TOKEN.")
    }

    static func failure(status: Int, data: Data) -> Failure {
        struct Body: Decodable {
            struct Inner: Decodable {
                var code: String
                var message: String
                var details: [ConfigurationIssue]?
            }
            var error: Inner
        }
        if let body = try? JSONDecoder().decode(Body.self, from: data) {
            var message = body.error.message
            if let details = body.error.details, !details.isEmpty {
                message = ([message] + details.map(\.description)).joined(separator: "\n")
            }
            if status == 401 { message += " (give --token or set HEN_TOKEN)" }
            return Failure(status: status, code: body.error.code, message: message)
        }
        return Failure(status: status, code: nil, message: "The daemon answered HTTP \(status).")
    }
}

final class NoChallenges: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge, completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        completionHandler(.rejectProtectionSpace, nil)
    }
}

/// Bytes of a `text/event-stream` into events: `event:` and `data:` lines, a blank line ends one.
final class EventStreamDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: URLSession calls a delegate serially on its queue; nothing else touches `buffer`.
    private let continuation: AsyncThrowingStream<JobEvent, any Error>.Continuation
    private let baseURL: URL
    private var buffer = Data()
    private var status = 0
    private var errorBody = Data()

    init(continuation: AsyncThrowingStream<JobEvent, any Error>.Continuation, baseURL: URL) {
        self.continuation = continuation
        self.baseURL = baseURL
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge, completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        completionHandler(.rejectProtectionSpace, nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse, completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard (200..<300).contains(status) else {
            errorBody.append(data)
            return
        }
        buffer.append(data)
        while let range = buffer.range(of: Data("\n\n".utf8)) {
            let block = String(decoding: buffer[buffer.startIndex..<range.lowerBound], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex..<range.upperBound)
            let payload = block.split(separator: "\n").filter { $0.hasPrefix("data:") }.map { $0.dropFirst(5).drop { $0 == " " } }.joined(separator: "\n")
            guard !payload.isEmpty else { continue }
            do {
                continuation.yield(try JobRecord.jsonDecoder().decode(JobEvent.self, from: Data(payload.utf8)))
            } catch {
                continuation.finish(throwing: DaemonClient.Failure(status: nil, code: nil, message: "An event from the daemon could not be read: \(error)"))
            }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if error != nil, status == 401 {
            continuation.finish(throwing: DaemonClient.unauthorized(baseURL))
        } else if let error, (error as NSError).code != NSURLErrorCancelled {
            continuation.finish(throwing: DaemonClient.Failure(status: nil, code: nil, message: "The event stream from \(baseURL.absoluteString) broke: \(error.localizedDescription)"))
        } else if !(200..<300).contains(status), status != 0 {
            continuation.finish(throwing: DaemonClient.failure(status: status, data: errorBody))
        } else {
            continuation.finish()
        }
        session.finishTasksAndInvalidate()
    }
}
