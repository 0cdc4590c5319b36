import Dispatch
import Foundation
import HenProcess
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Work the daemon does in its own process at a backup's CPU and IO priority: a restore drill's reading of
/// the sampled sources and their restored copies, niced like the restore before it. Linux keeps both
/// priorities per thread, so the work gets a thread of its own: the thread sets its CPU niceness itself
/// (`setpriority` of the calling thread), `ionice -p` sets the IO class of that one thread (as `ionice` does
/// for a child), and the thread ends with the work: an unprivileged thread cannot raise its priority again,
/// so none is reused, and the daemon's other threads (Swift's concurrency pool, the API) keep theirs.
enum NicedThread {
    /// Runs `work` on a new thread at `niceness` and returns what it returns. `work` is given a check that
    /// turns true once the calling task is cancelled (it should then stop soon). A CPU niceness below the
    /// daemon's own is kept only with the privilege to lower it, as for `nice`.
    static func run<T: Sendable>(_ name: String, niceness: Niceness, _ work: @escaping @Sendable (_ isCancelled: () -> Bool) -> T) async -> T {
        let cancelled = CancelFlag()
        let go = DispatchSemaphore(value: 0)
        let (threads, threadSink) = AsyncStream.makeStream(of: Int32.self)
        return await withTaskCancellationHandler {
            async let value: T = withCheckedContinuation { continuation in
                let thread = Thread {
                    if let cpu = niceness.cpu {
                        // Who 0 is the calling thread: on Linux the nice value is a thread's, not the process's.
                        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(min(max(cpu, 0), 19)))
                    }
                    threadSink.yield(currentThreadID())
                    threadSink.finish()
                    go.wait()
                    continuation.resume(returning: work { cancelled.isSet })
                }
                thread.name = name
                thread.start()
            }
            for await thread in threads {
                if let io = niceness.io { await setIOClass(io, thread: thread) }
            }
            go.signal()
            return await value
        } onCancel: {
            cancelled.set()
        }
    }

    /// `ionice -t -c CLASS [-n LEVEL] -p THREAD`: `-t` goes on when the class cannot be set (realtime without
    /// privileges), as the wrapper of a child process does.
    private static func setIOClass(_ io: Niceness.IOClass, thread: Int32) async {
        let arguments = ["-t"] + io.ioniceArguments + ["-p", String(thread)]
        let request = ChildProcessRequest(executable: "ionice", arguments: arguments, environment: ChildProcessRequest.currentEnvironment(keeping: ["PATH"]))
        // ionice missing (util-linux) leaves the IO class as it is, like `ionice -t`.
        _ = try? await ChildProcess.run(request, onLine: { _ in })
    }

    /// The calling thread's id, from `/proc/thread-self` (a link to `PID/task/TID`).
    static func currentThreadID() -> Int32 {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return getpid() }
        let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "/").last.flatMap { Int32($0) } ?? getpid()
    }
}

/// Set by the caller's cancellation, read by the work on its thread.
private final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
