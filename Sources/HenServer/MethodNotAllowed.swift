import Hummingbird
import Synchronization

/// The registered routes by method and path pattern, filled once the router has them all.
final class RouteTable: Sendable {
    private let routes = Mutex<[(method: String, segments: [Substring])]>([])

    func fill(from router: Router<HenRequestContext>) {
        let table = router.routes.map { (method: $0.method.rawValue, segments: Self.segments($0.path.description)) }
        routes.withLock { $0 = table }
    }

    /// The methods registered for a path (`{name}` matches any one segment); empty for an unknown path.
    func methods(for path: String) -> [String] {
        let wanted = Self.segments(path)
        let table = routes.withLock { $0 }
        let matching = table.filter { route in
            route.segments.count == wanted.count
                && zip(route.segments, wanted).allSatisfy { pattern, segment in pattern.hasPrefix("{") || pattern.hasPrefix(":") || pattern == segment }
        }
        return Array(Set(matching.map(\.method))).sorted()
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}

/// A known path asked with a method it does not take is 405 with `Allow`, not 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = HenRequestContext
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = table.methods(for: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            throw APIError(
                .methodNotAllowed, "method_not_allowed",
                "\(request.method) is not allowed on \(request.uri.path); it takes \(allowed.joined(separator: ", ")).",
                allow: allowed.joined(separator: ", ")
            )
        }
    }
}
