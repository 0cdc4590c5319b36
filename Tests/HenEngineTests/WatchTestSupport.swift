import Foundation
import HenTestSupport
import Logging
import Synchronization
import Testing
@testable import HenEngine

/// A temporary directory for watcher tests; `remove()` deletes it.
struct WatchScratch {
    let path: String

    init() throws {
        // Resolved: inotify reports paths as given, and /tmp is not a symlink here, but be sure.
        let base = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
        path = "\(base)/hen-watch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ relative: String) -> String { "\(path)/\(relative)" }

    func write(_ relative: String, _ text: String = "x") throws {
        let target = file(relative)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
    }

    /// Writes files from a child process (`/bin/sh`), for files whose close must not reach a watcher late.
    ///
    /// A file this process writes and closes can report its IN_CLOSE_WRITE much later: the kernel sends it
    /// when the last reference to the open file goes, and a child that another test forks at that moment
    /// holds a copy of every descriptor (even close-on-exec ones) until it execs. Under a loaded parallel
    /// run that made a file written before the watcher started look changed after (`log.txt` below), and a
    /// file moved in after writing it count twice. A child's own descriptors never enter our table.
    func writeFromChild(_ relatives: [String], _ text: String = "x") throws {
        var script = "set -e\n"
        for relative in relatives {
            let target = file(relative)
            script += "mkdir -p '\((target as NSString).deletingLastPathComponent)'\nprintf '%s' '\(text)' > '\(target)'\n"
        }
        _ = try runTool("/bin/sh", ["-c", script])
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: file(relative), withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Log lines written through the real handler, kept for assertions.
final class WatchLogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        let output = LogOutput { line in self.lines.withLock { $0.append(line) } }
        return Logger(label: "hen.watch") { HenLogHandler(label: $0, format: .text, level: .debug, output: output) }
    }
}

/// Reads a watcher's stream on a task and keeps every batch, so tests can wait for a path with a bound.
final class BatchCollector: Sendable {
    private struct State {
        var batches: [WatchBatch] = []
        var ended = false
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    private init() {}

    static func start(_ stream: AsyncStream<WatchBatch>) -> BatchCollector {
        let collector = BatchCollector()
        collector.task.withLock {
            $0 = Task {
                for await batch in stream { collector.state.withLock { $0.batches.append(batch) } }
                collector.state.withLock { $0.ended = true }
            }
        }
        return collector
    }

    var all: [WatchBatch] { state.withLock { $0.batches } }
    var paths: [String] { all.flatMap(\.paths) }
    var isEnded: Bool { state.withLock { $0.ended } }

    /// Waits (at most `timeout`) until `condition` holds for the batches seen.
    @discardableResult
    func wait(timeout: Duration = .seconds(120), until condition: @escaping ([WatchBatch]) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition(self.all) }
    }

    func wait(for path: String, timeout: Duration = .seconds(120)) async -> Bool {
        await wait(timeout: timeout) { $0.contains { $0.paths.contains(path) } }
    }

    func waitForEnd(timeout: Duration = .seconds(120)) async -> Bool {
        await eventually(timeout: timeout) { self.isEnded }
    }

    func cancel() { task.withLock { $0?.cancel() } }
}

/// Waits (at most `timeout`) for a condition that real file-system events make true. The bound is a safety
/// net, not a measure: it returns as soon as the condition holds. A loaded whole-suite run on two cores once
/// kept every test of the process waiting 48 s (a trivial stream test "passed after 48 s"), so 30 s failed
/// every watch test at once; 2 minutes.
func eventually(timeout: Duration = .seconds(120), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// An `addWatch` that lets the first `allowed` calls through to the kernel and then fails with `errno`.
func failingAddWatch(after allowed: Int, errno code: Int32) -> InotifyCalls {
    let calls = CallCounter()
    var injected = InotifyCalls.system
    injected.addWatch = { descriptor, path, mask in
        let count = calls.next()
        if count > allowed { return .failure(InotifyCallError(errno: code)) }
        return InotifyCalls.system.addWatch(descriptor, path, mask)
    }
    return injected
}

final class CallCounter: Sendable {
    private let count = Mutex(0)

    var current: Int { count.withLock { $0 } }

    func next() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }
}
