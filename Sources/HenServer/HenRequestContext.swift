import Foundation
import HenJSON
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus who made the request, once the
/// authentication middleware has looked.
public struct HenRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token label or user name that authenticated the request; nil when auth is `none`.
    public var identity: String?
    /// The client's address, for the log of a failed login.
    public let remoteAddress: SocketAddress?

    /// The client's IP address without the port (wrong passwords are counted per address and user), `-`
    /// when unknown.
    /// Bodies longer than this fail with 413 when a route reads them (``RequestLimits``).
    public var maxUploadSize: Int { RequestLimits.maxBodyBytes }

    public var clientAddress: String { remoteAddress?.ipAddress ?? "-" }

    /// Request bodies read with `request.decode(as:context:)` follow HenJSON's convention, as answers do.
    public var requestDecoder: JSONDecoder { HenJSON.decoder() }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}
