import Foundation
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
            if !health.isHealthy {
                let message = health.problems.map(\.message).joined(separator: " ")
                return try json(HealthBody(status: "degraded", health: health, message: message), status: .serviceUnavailable)
            }
            return try json(HealthBody(status: "ok", health: health, message: nil), status: .ok)
        }
    }

    /// The health answer: `{"status": "ok" | "degraded", "queued", "running", "problems": [...]}`; a
    /// degraded one also carries the API error shape so clients read it like any other error.
    struct HealthBody: Encodable {
        struct ErrorBody: Encodable {
            var code: String
            var message: String
        }

        var status: String
        var queued: Int
        var running: Int
        var problems: [EngineHealth.Problem]
        var error: ErrorBody?

        init(status: String, health: EngineHealth, message: String?) {
            self.status = status
            self.queued = health.queued
            self.running = health.running
            self.problems = health.problems
            self.error = message.map { ErrorBody(code: "degraded", message: $0) }
        }
    }

    private static func json(_ body: HealthBody, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(body))))
    }
}
