import CCurl

/// One libcurl easy transfer. Lives entirely on the transfer thread; only `abort` is shared.
final class CurlTransfer {
    private let request: HTTPRequest
    private let abort: AbortFlag
    private let onChunk: (@Sendable (HTTPResponseHead, [UInt8]) -> Void)?
    private var handle: UnsafeMutableRawPointer?

    private var headers: [HTTPHeader] = []
    private var headerBytes = 0
    private var streamedHead: HTTPResponseHead?
    private var body: [UInt8] = []
    private var bodyBytesReceived = 0
    private var bodyTruncated = false

    /// Headers beyond this are dropped: a hostile server must not grow memory without bound.
    private static let maxHeaderBytes = 256 * 1024
    private static let maxRedirects = 10

    init(request: HTTPRequest, abort: AbortFlag, onChunk: (@Sendable (HTTPResponseHead, [UInt8]) -> Void)?) {
        self.request = request
        self.abort = abort
        self.onChunk = onChunk
    }

    private var shownURL: String { displayURL(request.url) }

    func run() -> Result<HTTPResponse, HTTPClientError> {
        if abort.isSet { return .failure(cancelledError) }
        if let problem = validate() { return .failure(problem) }
        guard let curl = curl_easy_init() else {
            return .failure(HTTPClientError(code: .internalError, message: "libcurl could not create a handle for the HTTP request to \(shownURL)."))
        }
        handle = curl
        defer {
            curl_easy_cleanup(curl)
            handle = nil
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        return withExtendedLifetime(self) {
            let context = Unmanaged.passUnretained(self).toOpaque()
            var setup = CURLE_OK
            func set(_ code: CURLcode) { if setup == CURLE_OK { setup = code } }

            set(hen_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer))
            set(hen_curl_setopt_string(curl, CURLOPT_URL, request.url))
            set(hen_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))  // signals are process-wide; we run many threads
            set(hen_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "http,https"))
            set(hen_curl_setopt_string(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
            set(hen_curl_setopt_string(curl, CURLOPT_USERAGENT, "hen-backup"))
            set(hen_curl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0))
            set(hen_curl_setopt_long(curl, CURLOPT_MAXREDIRS, Self.maxRedirects))
            if let timeout = request.timeout {
                set(hen_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, timeout.curlMilliseconds))
            }
            if let connectTimeout = request.connectTimeout ?? request.timeout {
                set(hen_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout.curlMilliseconds))
            }
            if let caFile = request.caFile {
                set(hen_curl_setopt_string(curl, CURLOPT_CAINFO, caFile))
            }
            set(hen_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, request.insecure ? 0 : 1))
            set(hen_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, request.insecure ? 0 : 2))
            if let socket = request.unixSocketPath {
                set(hen_curl_setopt_string(curl, CURLOPT_UNIX_SOCKET_PATH, socket))
            }

            let method = request.method.uppercased()
            var body = request.body
            if body == nil && !["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"].contains(method) {
                body = []  // an explicit empty body, so the server sees Content-Length: 0
            }
            var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
            lines.append("Expect:")  // no 100-continue round trip
            if let body {
                set(hen_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                body.withUnsafeBufferPointer { buffer in
                    // COPYPOSTFIELDS copies exactly POSTFIELDSIZE bytes, so the buffer need not outlive this call.
                    let pointer = UnsafeMutableRawPointer(mutating: buffer.baseAddress) ?? UnsafeMutableRawPointer(mutating: ("" as StaticString).utf8Start)
                    set(hen_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, pointer))
                }
                if method != "POST" {
                    set(hen_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, method))
                }
                let hasContentType = request.headers.contains { $0.name.lowercased() == "content-type" }
                if !hasContentType {
                    // libcurl would claim a form; say what we know instead, or nothing for an empty body.
                    lines.append(body.isEmpty ? "Content-Type:" : "Content-Type: application/octet-stream")
                }
            } else if method == "GET" {
                set(hen_curl_setopt_long(curl, CURLOPT_HTTPGET, 1))
            } else if method == "HEAD" {
                set(hen_curl_setopt_long(curl, CURLOPT_NOBODY, 1))
            } else {
                set(hen_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, method))
            }
            for line in lines {
                guard let appended = curl_slist_append(headerList, line) else {
                    return .failure(HTTPClientError(code: .internalError, message: "libcurl could not store the headers of the HTTP request to \(shownURL)."))
                }
                headerList = appended
            }
            set(hen_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList))

            set(hen_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, context))
            set(hen_curl_setopt_header_function(curl) { data, size, count, context in
                guard let context else { return 0 }
                return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().receiveHeader(data, size * count)
            })
            set(hen_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, context))
            set(hen_curl_setopt_write_function(curl) { data, size, count, context in
                guard let context else { return 0 }
                return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().receiveBody(data, size * count)
            })
            set(hen_curl_setopt_long(curl, CURLOPT_NOPROGRESS, 0))
            set(hen_curl_setopt_pointer(curl, CURLOPT_XFERINFODATA, context))
            set(hen_curl_setopt_xferinfo_function(curl) { context, _, _, _, _ in
                guard let context else { return 1 }
                return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().abort.isSet ? 1 : 0
            })

            guard setup == CURLE_OK else {
                return .failure(error(for: setup, detail: String(cString: errorBuffer)))
            }
            let code = curl_easy_perform(curl)
            if abort.isSet { return .failure(cancelledError) }
            guard code == CURLE_OK else {
                return .failure(error(for: code, detail: String(cString: errorBuffer)))
            }
            let head = streamedHead ?? currentHead()
            return .success(HTTPResponse(head: head, body: self.body, bodyTruncated: bodyTruncated, bodyBytesReceived: bodyBytesReceived))
        }
    }

    // MARK: - Callbacks (transfer thread)

    private func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        if abort.isSet { return 0 }
        guard let data, length > 0 else { return length }
        let raw = UnsafeRawBufferPointer(start: data, count: length)
        let line = String(decoding: raw, as: UTF8.self).trimmingSuffix(while: \.isNewline)
        if line.hasPrefix("HTTP/") {
            // A new response begins (a redirect, or an interim 1xx): only the last one's headers count.
            headers.removeAll()
            headerBytes = 0
        } else if let colon = line.firstIndex(of: ":"), headerBytes + length <= Self.maxHeaderBytes {
            let name = line[..<colon].trimmed(of: " \t")
            let value = line[line.index(after: colon)...].trimmed(of: " \t")
            headers.append(HTTPHeader(name, value))
            headerBytes += length
        }
        return length
    }

    private func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        if abort.isSet { return 0 }  // makes curl stop with a write error; reported as cancelled
        guard let data, length > 0 else { return length }
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        bodyBytesReceived += length
        if let onChunk {
            let head = streamedHead ?? currentHead()
            streamedHead = head
            onChunk(head, Array(bytes))
        } else {
            let room = max(0, request.maxBodyBytes - body.count)
            if room < length { bodyTruncated = true }
            body.append(contentsOf: bytes.prefix(room))
        }
        return length
    }

    private func currentHead() -> HTTPResponseHead {
        var status = 0
        if let handle {
            _ = hen_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        }
        return HTTPResponseHead(status: status, headers: headers)
    }

    // MARK: - Errors

    private var cancelledError: HTTPClientError {
        HTTPClientError(code: .cancelled, message: "The HTTP request to \(shownURL) was cancelled.")
    }

    private func validate() -> HTTPClientError? {
        let lower = request.url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            return HTTPClientError(code: .invalidURL, message: "The URL \(shownURL) is not an http:// or https:// URL.")
        }
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        guard !request.method.isEmpty, request.method.allSatisfy(tokenCharacters.contains) else {
            return HTTPClientError(code: .invalidRequest, message: "The HTTP method for \(shownURL) is not a valid method name.")
        }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.allSatisfy(tokenCharacters.contains) else {
                return HTTPClientError(code: .invalidRequest, message: "A header name of the HTTP request to \(shownURL) is empty or contains characters not allowed in a header name.")
            }
            if header.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                // The value is not quoted here: header values are often tokens.
                return HTTPClientError(code: .invalidRequest, message: "The value of header \(header.name) of the HTTP request to \(shownURL) contains a line break.")
            }
        }
        return nil
    }

    private func error(for code: CURLcode, detail rawDetail: String) -> HTTPClientError {
        var detail = rawDetail.trimmed(of: " \n")
        if let userinfo = urlUserinfo(request.url) { detail = detail.replacing(userinfo, with: "***") }
        if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
        let url = shownURL
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            let limit = request.timeout.map { " after \($0.shortDescription)" } ?? ""
            return HTTPClientError(code: .timeout, message: "The HTTP request to \(url) timed out\(limit).")
        case CURLE_ABORTED_BY_CALLBACK:
            return cancelledError
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPClientError(code: .invalidURL, message: "The URL \(url) is not valid (\(detail)).")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return HTTPClientError(code: .connectionFailed, message: "Could not connect to \(url) (\(detail)).")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CLIENTCERT:
            return HTTPClientError(code: .tls, message: "The TLS connection to \(url) failed (\(detail)).")
        case CURLE_TOO_MANY_REDIRECTS:
            return HTTPClientError(code: .tooManyRedirects, message: "The HTTP request to \(url) was redirected more than \(Self.maxRedirects) times.")
        case CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT, CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN, CURLE_BAD_FUNCTION_ARGUMENT:
            return HTTPClientError(code: .internalError, message: "libcurl could not run the HTTP request to \(url) (\(detail)).")
        default:
            return HTTPClientError(code: .transferFailed, message: "The HTTP request to \(url) failed (\(detail)).")
        }
    }
}
