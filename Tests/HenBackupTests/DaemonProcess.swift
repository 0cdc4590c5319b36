import Foundation
import HenTestSupport

/// A `hen-backup` child process for end-to-end tests: started with a configuration, stopped with signals,
/// its output kept in a file for failure messages. Killed (and waited for) by `close()` if still running.
final class DaemonProcess: @unchecked Sendable {
    // @unchecked: `process` is configured before `run()` and only read afterwards.
    let process = Process()
    let logPath: String

    /// The `hen-backup` executable built beside the test bundle.
    static var executable: String? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("hen-backup").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    init(arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        guard let executable = Self.executable else {
            throw DaemonTestError("The hen-backup executable was not found beside the test bundle; run `swift build` first.")
        }
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the exit (polling, at most `timeout` seconds); returns the exit status or nil on timeout.
    func waitForExit(timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Every process below this one (restic children), from /proc.
    var descendants: [Int32] {
        var parents: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[parent, default: []].append(pid) }
        }
        var result: [Int32] = []
        var pending = [process.processIdentifier]
        while let next = pending.popLast() {
            let children = parents[next] ?? []
            result.append(contentsOf: children)
            pending.append(contentsOf: children)
        }
        return result
    }

    func close() {
        if process.isRunning { process.killAndReap() }
    }
}

struct DaemonTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
