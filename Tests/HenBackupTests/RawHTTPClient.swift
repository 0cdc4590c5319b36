import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 over a plain socket to 127.0.0.1, for the security tests: every byte is the test's own (a forged
/// `Host`, an oversize header, a body without `Content-Length`), which URLSession would not send as written.
/// Calls block; each has a deadline (the socket's send and receive timeouts), never a sleep.
struct RawHTTPResponse: CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// `error.code` of the API's JSON error, nil when the body is not one.
    var errorCode: String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let error = object["error"] as? [String: Any] else { return nil }
        return error["code"] as? String
    }

    var description: String { "HTTP \(status) \(header("content-type") ?? "-") \(text.prefix(300))" }
}

/// One connection to the daemon.
final class RawHTTPConnection {
    let descriptor: Int32

    init(port: Int, timeout: Double = 30) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw DaemonTestError("socket() failed: errno \(errno)") }
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            // Not closed here: a class whose initializer throws once every property is set still runs its
            // deinit, which closes it. Closing it twice closed whatever file took its number meanwhile (the
            // job store's SQLite file in another test: "SQLite error 10: disk I/O error").
            throw DaemonTestError("connect() to 127.0.0.1:\(port) failed: errno \(error)")
        }
    }

    deinit { Glibc.close(descriptor) }

    /// Sends everything; false when the daemon closed the connection first (it may answer before reading
    /// a body it refuses). MSG_NOSIGNAL: a closed peer must not kill the test with SIGPIPE.
    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 {
                    if sent < 0 && errno == EINTR { continue }
                    return false
                }
                offset += sent
            }
            return true
        }
    }

    /// Reads until the daemon closes the connection (requests say `Connection: close`) or `timeout` seconds
    /// have passed in all (an endless answer, such as an event stream, is cut there).
    func readToEnd(timeout: Double) -> Data {
        let deadline = Date().addingTimeInterval(timeout)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// Reads what is there now or arrives within `timeout` seconds (non-blocking poll); nil once closed.
    func readAvailable(timeout: Double) -> Data? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return Data() }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if count == 0 { return nil }
        if count < 0 { return errno == EAGAIN || errno == EINTR ? Data() : nil }
        return Data(buffer[0..<count])
    }
}

enum RawHTTP {
    /// One request on a fresh connection (`Connection: close` is added), its answer parsed; nil when the
    /// daemon closed the connection without answering.
    static func request(
        port: Int, _ method: String, _ target: String, host: String? = nil, headers: [(String, String)] = [], body: Data? = nil, chunked: Bool = false, timeout: Double = 30
    ) throws -> RawHTTPResponse? {
        var head = "\(method) \(target) HTTP/1.1\r\n"
        head += "Host: \(host ?? "127.0.0.1:\(port)")\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: \(body.count)\r\n"
        }
        head += "Connection: close\r\n\r\n"
        var bytes = Data(head.utf8)
        if let body {
            if chunked {
                var offset = 0
                while offset < body.count {
                    let piece = body[body.startIndex + offset..<body.startIndex + min(body.count, offset + 65_536)]
                    bytes.append(Data((String(piece.count, radix: 16) + "\r\n").utf8))
                    bytes.append(piece)
                    bytes.append(Data("\r\n".utf8))
                    offset += piece.count
                }
                bytes.append(Data("0\r\n\r\n".utf8))
            } else {
                bytes.append(body)
            }
        }
        let connection = try RawHTTPConnection(port: port, timeout: timeout)
        connection.send(bytes)
        return parse(connection.readToEnd(timeout: timeout))
    }

    /// A JSON request as a browser page or a client would send it.
    static func json(port: Int, _ method: String, _ target: String, host: String? = nil, headers: [(String, String)] = [], json: String) throws -> RawHTTPResponse? {
        try request(port: port, method, target, host: host, headers: [("Content-Type", "application/json")] + headers, body: Data(json.utf8))
    }

    static func parse(_ data: Data) -> RawHTTPResponse? {
        guard let end = data.firstRange(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, statusLine.hasPrefix("HTTP/1."), let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        let headers = head.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Data(data[end.upperBound...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            body = dechunk(body)
        }
        return RawHTTPResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: Data) -> Data {
        var result = Data()
        var rest = data[...]
        while let lineEnd = rest.firstRange(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { result.append(rest[start...]); break }
            let stop = rest.index(start, offsetBy: size)
            result.append(rest[start..<stop])
            rest = rest[(rest.index(stop, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex)...]
        }
        return result
    }
}
