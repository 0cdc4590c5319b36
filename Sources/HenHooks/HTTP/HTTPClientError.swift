/// Why an HTTP exchange did not produce a response. Messages name the URL without
/// credentials or query and never include header values.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        case invalidURL = "invalid_url"
        case invalidRequest = "invalid_request"
        case connectionFailed = "connection_failed"
        case tls
        case timeout
        case cancelled
        case tooManyRedirects = "too_many_redirects"
        case transferFailed = "transfer_failed"
        case internalError = "internal_error"
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
