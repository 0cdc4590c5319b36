import Foundation
import HenProcess
import Testing
@testable import HenEngine
#if canImport(Glibc)
import Glibc
#endif

/// A drill's comparison runs on a thread of its own at the backup's CPU and IO priority; the calling
/// thread (one of Swift's pool, shared with every other job) keeps its own.
@Suite struct NicedThreadTests {
    /// The IO class of a thread as `ionice -p` reads it back ("idle", "best-effort: prio 7").
    static func ioClass(of thread: Int32) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ionice")
        process.arguments = ["-p", String(thread)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func niceness() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    @Test func theWorkRunsAtTheGivenPriorityAndTheCallerKeepsItsOwn() async throws {
        let before = Self.niceness()
        let target = max(before, 13)
        let seen = await NicedThread.run("hen-test", niceness: Niceness(cpu: Int(target), io: .idle)) { _ in
            let thread = NicedThread.currentThreadID()
            return (thread, Self.niceness(), try? Self.ioClass(of: thread))
        }
        #expect(seen.0 != getpid(), "the work ran on the process's main thread")
        #expect(seen.1 == target)
        #expect(seen.2 == "idle")
        #expect(Self.niceness() == before)
        #expect(try Self.ioClass(of: NicedThread.currentThreadID()) != "idle")
    }

    @Test func withoutNicenessTheWorkKeepsTheDaemonsPriority() async throws {
        let before = Self.niceness()
        let seen = await NicedThread.run("hen-test", niceness: Niceness()) { _ in Self.niceness() }
        #expect(seen == before)
    }

    @Test func aCancelledCallerTellsTheWork() async throws {
        let task = Task {
            await NicedThread.run("hen-test", niceness: Niceness()) { isCancelled in
                // Waits for the cancellation as a comparison between two files would notice it.
                while !isCancelled() { usleep(1000) }
                return true
            }
        }
        task.cancel()
        #expect(await task.value)
    }
}
