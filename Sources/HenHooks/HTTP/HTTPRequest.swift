/// One HTTP request for `HTTPClient`.
public struct HTTPRequest: Sendable, Hashable {
    /// Any token curl accepts: GET, POST, PUT, PATCH, DELETE, HEAD, ...
    public var method: String
    /// An `http://` or `https://` URL; other schemes are refused.
    public var url: String
    /// Sent in order; values may be secrets and never appear in errors.
    public var headers: [HTTPHeader]
    /// Nil sends no body.
    public var body: [UInt8]?
    /// The whole exchange, connection included; nil waits forever (until cancelled).
    public var timeout: Duration?
    /// The TCP and TLS handshake alone; nil uses `timeout` (or curl's 300 s default).
    public var connectTimeout: Duration?
    /// A PEM bundle trusted instead of the system's certificate authorities.
    public var caFile: String?
    /// Turns TLS certificate and host name verification off. An explicit opt-out, never a default.
    public var insecure: Bool
    public var followRedirects: Bool
    /// At most this many body bytes are kept in `HTTPResponse.body`; the rest is read and dropped.
    public var maxBodyBytes: Int
    /// Connect through this Unix domain socket instead of TCP (the URL still names host and path).
    public var unixSocketPath: String?

    public init(
        method: String = "GET",
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8]? = nil,
        timeout: Duration? = .seconds(30),
        connectTimeout: Duration? = nil,
        caFile: String? = nil,
        insecure: Bool = false,
        followRedirects: Bool = false,
        maxBodyBytes: Int = 1 << 20,
        unixSocketPath: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.caFile = caFile
        self.insecure = insecure
        self.followRedirects = followRedirects
        self.maxBodyBytes = maxBodyBytes
        self.unixSocketPath = unixSocketPath
    }
}
