import Foundation
import HenTestSupport

/// Runs a helper tool in a test (gzip, tar) and fails loudly when it fails.
enum ConformanceShell {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ executable: String, _ arguments: [String], stdoutTo path: String? = nil, stdinFrom input: String? = nil, workingDirectory: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        var handles: [FileHandle] = []
        defer { for handle in handles { try? handle.close() } }
        if let path {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            handles.append(handle)
            process.standardOutput = handle
        }
        if let input {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
            handles.append(handle)
            process.standardInput = handle
        }
        try process.run()
        let status = process.reap()
        guard status == 0 else {
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(status)")
        }
    }
}
