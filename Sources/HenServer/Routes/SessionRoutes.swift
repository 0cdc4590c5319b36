import Foundation
import HenAPI
import HenEngine
import Hummingbird

/// The web UI's login: `POST /login` `{name, password}` sets an HttpOnly session cookie; `POST /logout`
/// ends it; `GET /session` says who is logged in (and whether auth is on at all).
public struct SessionRoutes: Sendable {
    let authenticator: APIAuthenticator

    public init(authenticator: APIAuthenticator) {
        self.authenticator = authenticator
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.post("login") { request, context in
            let body = try await request.decode(as: API.Login.self, context: context)
            guard authenticator.isRequired else {
                return try RouteSupport.json(API.Session(authRequired: false, identity: nil))
            }
            let session: String
            switch await authenticator.login(user: body.name, password: body.password, address: context.clientAddress) {
            case .session(let id):
                session = id
            case .busy:
                throw APIError(.tooManyRequests, "too_many_requests", APIAuthenticator.busyMessage)
            case .throttled(let seconds):
                context.logger.warning("Login refused: too many wrong passwords for this user from this address.", metadata: ["user": "\(body.name)", "remote": "\(context.clientAddress)"])
                throw APIError.throttled(seconds)
            case .wrong:
                context.logger.warning("Login failed.", metadata: ["user": "\(body.name)", "remote": "\(context.clientAddress)"])
                throw APIError(.unauthorized, "unauthorized", "Wrong user name or password.")
            }
            context.logger.notice("Login.", metadata: ["user": "\(body.name)"])
            var response = try RouteSupport.json(API.Session(authRequired: true, identity: "user:\(body.name)"))
            response.headers[.setCookie] = "\(APIAuthenticator.sessionCookie)=\(session); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(APIAuthenticator.sessionLifetime))"
            return response
        }
        api.post("logout") { request, _ in
            authenticator.logout(cookie: request.headers[.cookie])
            var response = Response(status: .noContent)
            response.headers[.setCookie] = "\(APIAuthenticator.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        api.get("session") { _, context in
            try RouteSupport.json(API.Session(authRequired: authenticator.isRequired, identity: context.identity))
        }
    }
}
