import CoreMetrics
import Foundation
import Synchronization
import Testing
@testable import HenEngine

/// The watch service's metrics: events, triggers and watch count per backup, with real inotify.
@Suite(.timeLimit(.minutes(1))) struct WatchMetricsTests {
    /// A metrics factory that keeps the last value of every counter and gauge by label and dimensions.
    final class RecordedMetrics: MetricsFactory, Sendable {
        private let values = Mutex<[String: Double]>([:])

        static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
            label + "{" + dimensions.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
        }

        func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
            values.withLock { $0[Self.key(label, dimensions)] }
        }

        final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
            let key: String
            let store: RecordedMetrics
            init(key: String, store: RecordedMetrics) {
                self.key = key
                self.store = store
            }
            func increment(by amount: Int64) { store.values.withLock { $0[key, default: 0] += Double(amount) } }
            func reset() { store.values.withLock { $0[key] = 0 } }
            func record(_ value: Int64) { store.values.withLock { $0[key] = Double(value) } }
            func record(_ value: Double) { store.values.withLock { $0[key] = value } }
            func recordNanoseconds(_ duration: Int64) { store.values.withLock { $0[key] = Double(duration) } }
        }

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler(key: Self.key(label, dimensions), store: self) }
        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handler(key: Self.key(label, dimensions), store: self) }
        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(key: Self.key(label, dimensions), store: self) }
        func destroyCounter(_ handler: any CounterHandler) {}
        func destroyRecorder(_ handler: any RecorderHandler) {}
        func destroyTimer(_ handler: any TimerHandler) {}
    }

    @Test func changesCountAsEventsAndTriggersAndWatchesAreGauged() async throws {
        let scratch = try WatchScratch()
        defer { scratch.remove() }
        try scratch.makeDirectory("sub")
        let metrics = RecordedMetrics()
        let submitted = Mutex(0)
        let service = WatchService(
            backups: [Configuration.Backup(name: "docs", paths: [scratch.path], repositories: ["local"], watch: .init(latency: .milliseconds(100), maxWait: .seconds(10)))],
            logger: WatchLogLines().logger(), metrics: metrics, submit: { _, _, _ in submitted.withLock { $0 += 1 } }
        )
        let task = Task { try await service.run() }
        defer { task.cancel() }
        #expect(await eventually { await service.status().allSatisfy { $0.state == .watching } })
        // The root and its subdirectory.
        #expect(metrics.value("hen_watches", [("backup", "docs")]) == 2)
        for index in 0..<5 { try scratch.write("sub/file\(index).txt") }
        #expect(await eventually { submitted.withLock { $0 } == 1 })
        #expect(metrics.value("hen_watch_triggers_total", [("backup", "docs")]) == 1)
        #expect((metrics.value("hen_watch_events_total", [("backup", "docs")]) ?? 0) >= 5)
        task.cancel()
        try await task.value
        #expect(metrics.value("hen_watches", [("backup", "docs")]) == 0)
    }
}
