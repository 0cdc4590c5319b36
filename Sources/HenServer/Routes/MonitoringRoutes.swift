import Foundation
import HenAPI
import HenEngine
import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// `GET /metrics` (Prometheus text format) and `GET /api/v1/health` (`?strict=1` for degraded states).
public enum MonitoringRoutes {
    /// The Prometheus factory the daemon bootstraps swift-metrics with: job durations get buckets that fit
    /// backups (seconds to hours) instead of the library's request-sized ones.
    public static func makeMetricsFactory(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> HelpfulMetricsFactory {
        var factory = HelpfulMetricsFactory(registry: registry)
        factory.durationBuckets["hen_job_duration_seconds"] = [1, 5, 15, 30, 60, 300, 900, 1_800, 3_600, 7_200, 14_400, 43_200].map { Duration.seconds($0) }
        return factory
    }

    /// Bootstraps swift-metrics with ``makeMetricsFactory(registry:)`` for the whole process (the daemon,
    /// once, before it opens the engine).
    public static func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(makeMetricsFactory())
    }

    /// Registers both routes: `/metrics` at the root, `health` on the `/api/v1` group.
    public static func register(on router: Router<HenRequestContext>, api: RouterGroup<HenRequestContext>, engine: Engine) {
        router.get("metrics") { _, _ -> Response in
            // The engine's own factory when it is Prometheus (tests), else the process-wide one (the daemon).
            guard let factory = (engine.metricsFactory as? HelpfulMetricsFactory) ?? (MetricsSystem.factory as? HelpfulMetricsFactory) else {
                throw APIError(.notFound, "not_found", "Metrics are not collected in this process (swift-metrics is not bootstrapped with Prometheus).")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: factory.registry.emitToBuffer())))
        }
        api.get("health") { request, _ -> Response in
            let strict = try RouteSupport.flag(request.queryValue("strict"), name: "strict")
            let health = await engine.health(strict: strict)
            if health.isDown {
                let first = health.problems.first { $0.kind == "job_store" || $0.kind == "engine" }!
                throw APIError(.serviceUnavailable, "unavailable", first.message)
            }
            // Degraded is 503 with the answer's own shape (and its error): a monitor reads the status code.
            return try RouteSupport.json(API.Health(health), status: health.isHealthy ? .ok : .serviceUnavailable)
        }
    }
}
