/// The sizes a request may have, each answered with the API's JSON error when exceeded (docs/api.md).
public enum RequestLimits {
    /// A request body: 413 `body_too_large` (a restore's paths, a login; nothing the API takes is bigger).
    public static let maxBodyBytes = 1 << 20
    /// One header field, or the request target (path and query): 431 `headers_too_large`.
    public static let maxHeaderFieldBytes = 16 * 1024
    /// The request line and every header together: 431 `headers_too_large`.
    public static let maxHeaderBytes = 32 * 1024
    /// Header fields in one request: 431 `headers_too_large`.
    public static let maxHeaderFields = 100

    static let bodyTooLargeMessage = "The request body is larger than \(maxBodyBytes / 1024 / 1024) MiB, the most this API accepts."
    static let headersTooLargeMessage = "The request's headers or its URL are too large: at most \(maxHeaderFieldBytes / 1024) KiB per header or URL, \(maxHeaderBytes / 1024) KiB and \(maxHeaderFields) headers in all. The connection is closed."
}
