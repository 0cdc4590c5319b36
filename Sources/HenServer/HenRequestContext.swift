import Hummingbird

/// The request context of every route: Hummingbird's core storage plus who made the request, once the
/// authentication middleware has looked.
public struct HenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token label or user name that authenticated the request; nil when auth is `none`.
    public var identity: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }
}
