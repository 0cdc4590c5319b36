/// A complete response. The body is bounded by `HTTPRequest.maxBodyBytes`.
public struct HTTPResponse: Sendable, Hashable {
    public var head: HTTPResponseHead
    /// The first `maxBodyBytes` of the body; empty for streamed requests.
    public var body: [UInt8]
    /// True when more body bytes arrived than were kept.
    public var bodyTruncated: Bool
    /// Every body byte received, kept or not.
    public var bodyBytesReceived: Int

    public init(head: HTTPResponseHead, body: [UInt8], bodyTruncated: Bool, bodyBytesReceived: Int) {
        self.head = head
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.bodyBytesReceived = bodyBytesReceived
    }

    public var status: Int { head.status }
    public var headers: [HTTPHeader] { head.headers }
    public func header(_ name: String) -> String? { head.header(name) }
    /// The kept body decoded as UTF-8 (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
