/// The status line and headers of a response, known before its body arrives.
public struct HTTPResponseHead: Sendable, Hashable {
    public var status: Int
    /// Headers of the final response (after redirects), in the order received.
    public var headers: [HTTPHeader]

    public init(status: Int, headers: [HTTPHeader]) {
        self.status = status
        self.headers = headers
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
