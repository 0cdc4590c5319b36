import Metrics
import HenEngine
import Prometheus

/// swift-metrics over a Prometheus registry, giving each family the `# HELP` text of
/// ``EngineMetrics/families``. swift-prometheus' own factory registers every family with an empty help,
/// which `promtool check metrics` flags, and its registry refuses a second, different help for a family.
public struct HelpfulMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    /// Histogram buckets per timer name (job durations: seconds to hours, not request-sized ones).
    public var durationBuckets: [String: [Duration]] = [:]
    public var defaultDurationBuckets: [Duration] = [.milliseconds(5), .milliseconds(50), .milliseconds(500), .seconds(5), .seconds(50)]
    public var defaultValueBuckets: [Double] = [1, 10, 100, 1_000, 10_000]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The full name is the label (the unit is already in it: `_seconds`, `_total`).
    private func family(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: EngineMetrics.families[label] ?? "")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: family(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: family(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: family(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: family(label), labels: dimensions, buckets: defaultValueBuckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: family(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: family(label), labels: dimensions, buckets: durationBuckets[label] ?? defaultDurationBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? Histogram<Double> { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Histogram<Duration> { registry.unregisterDurationHistogram(histogram) }
    }
}
