#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import HenDrivers
import Logging
import Synchronization

/// Watches a backup's paths with inotify and streams batches of changes.
///
/// Directories are watched recursively; a new directory is watched as it appears and scanned (files may
/// have been created in it before its watch existed); removed and moved-away directories are dropped.
/// A path that is a file is watched through its parent directory, filtered to its name. Excluded paths
/// (the backup's `excludes`, with the driver's ``ExcludeMatcher``) are neither watched nor reported.
///
/// The kernel's queue is read on a dedicated thread that blocks in `poll`, so nothing blocks the
/// cooperative pool. When the kernel's limits are reached (`ENOSPC`: `fs.inotify.max_user_watches`,
/// `EMFILE`: `fs.inotify.max_user_instances`) the watcher logs a warning naming the setting, records a
/// ``WatchDegradation``, releases its watches and ends its stream: the backup falls back to its schedules.
///
/// Call ``stop()`` (or stop iterating the stream) to end it.
public final class InotifyWatcher: Sendable {
    public let backup: String
    /// The watched paths, absolute.
    public let paths: [String]
    private let excludes: ExcludeMatcher
    private let logger: Logger
    private let calls: InotifyCalls
    private let pathLimit: Int
    private let shared = Mutex(Shared())

    private struct Shared {
        var started = false
        var finished = false
        var stopRequested = false
        /// The write end of the pipe that wakes the thread's poll; -1 when the thread is not polling.
        var wake: Int32 = -1
        var watchCount = 0
        var degradation: WatchDegradation?
        var suppressions: [UInt64: [String]] = [:]
        var nextSuppression: UInt64 = 0
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - paths: the backup's paths (made absolute against the working directory).
    ///   - excludes: the backup's exclude patterns, compiled.
    ///   - pathLimit: how many distinct paths a batch keeps (the rest are only counted).
    ///   - calls: the inotify calls; tests inject failures here.
    public init(backup: String, paths: [String], excludes: ExcludeMatcher, logger: Logger, pathLimit: Int = 10, calls: InotifyCalls = .system) {
        self.backup = backup
        self.paths = paths.map(WatchPath.normalize)
        self.excludes = excludes
        self.logger = logger
        self.pathLimit = pathLimit
        self.calls = calls
    }

    /// Adds the watches (on the watcher's thread) and returns once they are in place; changes made from
    /// then on arrive on the stream. The stream ends when the watcher stops or degrades. Call once.
    public func start() async -> AsyncStream<WatchBatch> {
        // Newest: when the reader falls far behind, the latest changes matter for the quiet period.
        let (stream, continuation) = AsyncStream.makeStream(of: WatchBatch.self, bufferingPolicy: .bufferingNewest(1024))
        let first = shared.withLock { shared in
            defer { shared.started = true }
            return !shared.started
        }
        guard first else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.stop() }
        await withCheckedContinuation { (ready: CheckedContinuation<Void, Never>) in
            let thread = Thread { self.run(continuation, ready: ready) }
            thread.name = "hen-watch"
            thread.start()
        }
        return stream
    }

    /// Ends the watch: the thread closes the inotify instance (releasing its watches) and the stream ends.
    public func stop() {
        shared.withLock { shared in
            shared.stopRequested = true
            Self.wake(shared.wake)
        }
    }

    /// Watch descriptors in use now.
    public var watchCount: Int { shared.withLock { $0.watchCount } }

    /// Why the watcher stopped watching, if it had to.
    public var degradation: WatchDegradation? { shared.withLock { $0.degradation } }

    /// Whether the thread has ended (stopped or degraded).
    public var isFinished: Bool { shared.withLock { $0.finished } }

    /// Changes below `paths` are not reported until ``endSuppression(_:)``. Directories created there
    /// are still watched, so later changes are seen.
    public func beginSuppression(of paths: [String]) -> WatchSuppression {
        let normalized = paths.map(WatchPath.normalize)
        return shared.withLock { shared in
            shared.nextSuppression += 1
            shared.suppressions[shared.nextSuppression] = normalized
            return WatchSuppression(id: shared.nextSuppression)
        }
    }

    /// Reads every event queued so far (the changes made while suppressed are in the kernel's queue by
    /// the time the writer returned), then lifts the suppression.
    public func endSuppression(_ suppression: WatchSuppression) async {
        await drain()
        _ = shared.withLock { $0.suppressions.removeValue(forKey: suppression.id) }
    }

    /// Returns once every event queued in the kernel before the call has been read and handled.
    public func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let running = shared.withLock { shared -> Bool in
                guard !shared.finished, shared.wake >= 0 else { return false }
                shared.drainWaiters.append(continuation)
                Self.wake(shared.wake)
                return true
            }
            if !running { continuation.resume() }
        }
    }

    // MARK: - The thread

    private func run(_ continuation: AsyncStream<WatchBatch>.Continuation, ready: CheckedContinuation<Void, Never>) {
        var readyPending = true
        defer {
            let waiters = shared.withLock { shared in
                shared.finished = true
                shared.wake = -1
                shared.watchCount = 0
                defer { shared.drainWaiters = [] }
                return shared.drainWaiters
            }
            for waiter in waiters { waiter.resume() }
            continuation.finish()
            if readyPending { ready.resume() }
        }

        let descriptor: Int32
        switch calls.initialize() {
        case .success(let value):
            descriptor = value
        case .failure(let failure):
            degrade(failure.errno == EMFILE ? .instanceLimit(backup: backup) : .unavailable(backup: backup, errno: failure.errno))
            return
        }
        defer { close(descriptor) }
        // A pipe wakes the poll for stop and drain requests (Glibc's module does not export eventfd).
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            degrade(.unavailable(backup: backup, errno: errno))
            return
        }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        let wake = pipeEnds[0]
        defer {
            // Nobody may write to the pipe once it is closed (its number could be reused).
            shared.withLock { $0.wake = -1 }
            close(pipeEnds[1])
            close(pipeEnds[0])
        }
        let stopEarly = shared.withLock { shared in
            shared.wake = pipeEnds[1]
            return shared.stopRequested
        }
        if stopEarly { return }

        var tree = InotifyTree(backup: backup, descriptor: descriptor, calls: calls, excludes: excludes, logger: logger, roots: paths)
        do {
            try tree.addRoots()
        } catch {
            degrade(error)
            return
        }
        setWatchCount(tree.watches.count)
        logger.debug("Watching for changes.", metadata: ["backup": "\(backup)", "watches": "\(tree.watches.count)"])
        readyPending = false
        ready.resume()

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            var polled = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            if poll(&polled, 2, -1) < 0, errno != EINTR {
                degrade(.unavailable(backup: backup, errno: errno))
                return
            }
            if polled[1].revents != 0 {
                var bytes = (UInt64(0), UInt64(0))
                while read(wake, &bytes, 16) > 0 {}
            }
            let (stopping, waiters) = shared.withLock { shared in
                defer { shared.drainWaiters = [] }
                return (shared.stopRequested, shared.drainWaiters)
            }
            if stopping {
                for waiter in waiters { waiter.resume() }
                return
            }
            var batch = WatchBatch()
            var failure: WatchDegradation?
            do {
                try readQueue(descriptor, into: buffer, tree: &tree, batch: &batch)
            } catch {
                failure = error
            }
            setWatchCount(tree.watches.count)
            // Changes seen before a degradation are real: they still count.
            if !batch.isEmpty { continuation.yield(batch) }
            for waiter in waiters { waiter.resume() }
            if let failure {
                degrade(failure)
                return
            }
        }
    }

    /// Reads the inotify queue until it is empty.
    private func readQueue(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, tree: inout InotifyTree, batch: inout WatchBatch) throws(WatchDegradation) {
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                throw WatchDegradation.unavailable(backup: backup, errno: errno)
            }
            if count == 0 { return }
            try InotifyEvent.decode(UnsafeRawBufferPointer(buffer), count: count) { (event) throws(WatchDegradation) in
                try tree.handle(event, isSuppressed: isSuppressed, into: &batch, limit: pathLimit)
            }
        }
    }

    private func isSuppressed(_ path: String) -> Bool {
        shared.withLock { shared in
            shared.suppressions.values.contains { prefixes in prefixes.contains { WatchPath.isWithin(path, $0) } }
        }
    }

    private func setWatchCount(_ count: Int) {
        shared.withLock { $0.watchCount = count }
    }

    private func degrade(_ degradation: WatchDegradation) {
        shared.withLock { $0.degradation = degradation }
        logger.warning("\(degradation.message)", metadata: ["backup": "\(backup)", "code": "\(degradation.code)"])
    }

    private static func wake(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        var byte: UInt8 = 1
        // A full pipe already means "wake up".
        _ = write(descriptor, &byte, 1)
    }
}

/// A suppression of a watcher's changes below some paths (a restore writing there).
public struct WatchSuppression: Sendable, Hashable {
    let id: UInt64
}
