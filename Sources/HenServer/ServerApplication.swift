import Foundation
import HenEngine
import Hummingbird
import HummingbirdCore
import Logging

/// The HTTP API and the web UI of a running daemon. The daemon and the tests build it the same way.
///
/// Route groups live in `Routes/`, one file per resource; each registers itself on the `/api/v1` group here.
/// - Parameters:
///   - loader: reads the configuration file again for `POST /config/reload` (the daemon's environment and
///     drivers); by default the process environment and the engine's drivers.
public func buildApplication(
    engine: Engine,
    configuration: Configuration,
    logger: Logger,
    loader: ConfigurationLoader? = nil
) throws -> some ApplicationProtocol {
    let (host, port) = try ListenAddress.parse(configuration.api.listen)
    let limits = HTTP1Channel.Configuration.DecoderConfiguration(
        maxHeaderFieldSize: RequestLimits.maxHeaderFieldBytes, maxHeaderListSize: RequestLimits.maxHeaderBytes, maxHeaderFieldCount: RequestLimits.maxHeaderFields
    )
    return Application(
        router: buildRouter(engine: engine, loader: loader),
        server: .http1(configuration: HTTP1Channel.Configuration(additionalChannelHandlers: [OversizeHeadersHandler()], httpDecoderConfiguration: limits)),
        configuration: .init(address: .hostname(host, port: port), serverName: "hen-backup"),
        logger: logger
    )
}

/// Every route, behind the error and authentication middleware. `router.routes` lists them (the OpenAPI
/// test compares that list, the web UI's files at `/` and `/ui/` aside, with `openapi.json`).
public func buildRouter(engine: Engine, loader: ConfigurationLoader? = nil) -> Router<HenRequestContext> {
    let router = Router(context: HenRequestContext.self)
    let authenticator = APIAuthenticator { engine.configuration.api.auth }
    let table = RouteTable()
    // Outermost: no answer may be sniffed into another type (a download shown as HTML), errors included.
    router.middlewares.add(NoSniffMiddleware())
    // Then every text answer, errors included, leaves with the configuration's secrets redacted.
    router.middlewares.add(AnswerRedactionMiddleware(secrets: engine.secrets))
    router.middlewares.add(APIErrorMiddleware())
    // Before anything else looks at a request: what a web page could make the browser send is refused first.
    router.middlewares.add(HostAndOriginMiddleware { engine.configuration.api })
    router.middlewares.add(BodyLimitMiddleware())
    router.middlewares.add(MethodNotAllowedMiddleware(table: table))
    router.middlewares.add(AuthMiddleware(authenticator: authenticator))
    let api = router.group("api/v1")
    let loader = loader ?? ConfigurationLoader(environment: ProcessInfo.processInfo.environment, drivers: engine.registry)
    StatusRoutes(engine: engine).register(on: api)
    BackupRoutes(engine: engine).register(on: api)
    RepositoryRoutes(engine: engine).register(on: api)
    SnapshotRoutes(engine: engine).register(on: api)
    RestoreRoutes(engine: engine).register(on: api)
    JobRoutes(engine: engine).register(on: api)
    ConfigRoutes(engine: engine, loader: loader).register(on: api)
    SessionRoutes(authenticator: authenticator).register(on: api)
    OpenAPIDocument.register(on: api)
    MonitoringRoutes.register(on: router, api: api, engine: engine)
    WebUI.register(on: router)
    table.fill(from: router)
    return router
}

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, kept in `Resources/openapi.json`.
public enum OpenAPIDocument {
    /// The document's bytes (read once).
    public static let data: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources") ?? Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return Data(#"{"openapi":"3.1.0","info":{"title":"hen-backup","version":"missing"},"paths":{}}"#.utf8) }
        return data
    }()

    static func register(on api: RouterGroup<HenRequestContext>) {
        api.get("openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: data)))
        }
    }
}
