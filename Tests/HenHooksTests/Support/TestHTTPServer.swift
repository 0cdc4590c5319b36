import Foundation
import HenTestSupport
import HenHooks

/// Runs Tests/Support/http_test_server.py on 127.0.0.1 (ephemeral port) for one test.
/// Call `stop()` in a defer; the script also exits by itself when our stdin pipe closes.
// @unchecked: Process is used from the starting thread, then only for stop(); the rest is immutable.
final class TestHTTPServer: @unchecked Sendable {
    struct RecordedRequest: Decodable, Sendable {
        var method: String
        var path: String
        var headers: [[String]]
        var body: String  // base64

        func header(_ name: String) -> String? {
            headers.first { $0.first?.lowercased() == name.lowercased() }?.last
        }
        var bodyText: String {
            String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self)
        }
    }

    let port: Int
    let scheme: String
    private let process: Process
    private let stdinPipe: Pipe

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // HenHooksTests
            .deletingLastPathComponent()  // Tests
            .appendingPathComponent("Support/http_test_server.py").path
    }

    /// Starts the script; the wait for its port happens on a thread of its own, not the test's pool.
    static func start(tls certificate: TestCertificate? = nil) async throws -> TestHTTPServer {
        try await offPool { try TestHTTPServer(tls: certificate, unixSocket: nil) }
    }

    /// Listens on a Unix domain socket instead of TCP (`port` is 0).
    static func start(unixSocket path: String) async throws -> TestHTTPServer {
        try await offPool { try TestHTTPServer(tls: nil, unixSocket: path) }
    }

    private init(tls certificate: TestCertificate?, unixSocket: String?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        var arguments = [Self.scriptPath]
        if let certificate { arguments += ["--tls", certificate.certificatePath, certificate.keyPath] }
        if let unixSocket { arguments += ["--unix", unixSocket] }
        process.arguments = arguments
        let stdout = Pipe()
        let stdinPipe = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdinPipe
        try process.run()
        // The first line is the port.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            try? stdinPipe.fileHandleForWriting.close()
            process.killAndReap()
            throw TestServerError(message: "The test HTTP server did not print its port.")
        }
        self.port = port
        self.scheme = certificate == nil ? "http" : "https"
        self.process = process
        self.stdinPipe = stdinPipe
    }

    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    func requests() async throws -> [RecordedRequest] {
        let response = try await HTTPClient().send(HTTPRequest(url: url("/_requests"), insecure: true))
        return try JSONDecoder().decode([RecordedRequest].self, from: Data(response.body))
    }

    func stop() {
        // A test fixture: SIGKILL at once (a request may be sleeping for minutes), reaped without
        // waitUntilExit (see Process.reap).
        try? stdinPipe.fileHandleForWriting.close()
        process.killAndReap()
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
