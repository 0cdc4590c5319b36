import HenEngine
import Hummingbird
import Logging

/// The HTTP API (and, later, the web UI) of a running daemon. The daemon and the tests build it the same way.
///
/// Route groups live in `Routes/`, one file per resource; each registers itself on the `/api/v1` group here.
public func buildApplication(
    engine: Engine,
    configuration: Configuration,
    logger: Logger
) throws -> some ApplicationProtocol {
    let router = Router(context: HenRequestContext.self)
    router.middlewares.add(APIErrorMiddleware())
    let api = router.group("api/v1")
    SnapshotRoutes(engine: engine).register(on: api)
    RestoreRoutes(engine: engine).register(on: api)
    MonitoringRoutes.register(on: router, api: api, engine: engine)
    let (host, port) = try ListenAddress.parse(configuration.api.listen)
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "hen-backup"),
        logger: logger
    )
}
