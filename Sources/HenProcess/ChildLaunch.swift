import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The resolved command line of a request: the executable found, and the `nice`/`ionice` wrappers that
/// set the child's priority before it starts (so every thread it creates inherits it; setting it from
/// outside after the spawn would race with the threads a Go program starts at once).
struct ChildLaunch: Sendable {
    let executablePath: String
    let arguments: [String]
    /// The resolved path of the program the request asked for (the last element of the wrapper chain).
    let programPath: String

    init(_ request: ChildProcessRequest) throws(ChildProcessError) {
        let program = try Self.resolve(request.executable, request: request)
        var argv: [String] = []
        if let cpu = request.niceness.cpu {
            let target = min(max(cpu, 0), 19)
            let increment = target - Self.currentNiceness()
            if increment != 0 {
                argv += [try Self.wrapper("nice", request: request), "-n", String(increment)]
            }
        }
        if let io = request.niceness.io {
            argv += [try Self.wrapper("ionice", request: request), "-t"] + io.ioniceArguments
        }
        argv.append(program)
        argv += request.arguments
        executablePath = argv[0]
        arguments = Array(argv.dropFirst())
        programPath = program
    }

    private static func currentNiceness() -> Int {
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? Int(value) : 0
    }

    private static func wrapper(_ name: String, request: ChildProcessRequest) throws(ChildProcessError) -> String {
        let directories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] + searchPath(request)
        for directory in directories {
            let candidate = directory + "/" + name
            if isExecutableFile(candidate) { return candidate }
        }
        throw ChildProcessError(
            .spawnFailed,
            "Cannot apply the requested priority to \(request.executable): \(name) is not installed (it comes with coreutils/util-linux).",
            executable: request.executable
        )
    }

    private static func searchPath(_ request: ChildProcessRequest) -> [String] {
        let path = request.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    static func resolve(_ executable: String, request: ChildProcessRequest) throws(ChildProcessError) -> String {
        guard !executable.isEmpty else {
            throw ChildProcessError(.executableNotFound, "No executable was given.", executable: executable)
        }
        if executable.contains("/") {
            var path = executable
            if !path.hasPrefix("/") {
                let base = request.workingDirectory ?? FileManager.default.currentDirectoryPath
                path = (base as NSString).appendingPathComponent(path)
            }
            guard isExecutableFile(path) else {
                throw ChildProcessError(.executableNotFound, "\(executable) does not exist or is not executable.", executable: executable)
            }
            return path
        }
        for directory in searchPath(request) {
            var candidate = directory + "/" + executable
            if !candidate.hasPrefix("/") {
                let base = request.workingDirectory ?? FileManager.default.currentDirectoryPath
                candidate = (base as NSString).appendingPathComponent(candidate)
            }
            if isExecutableFile(candidate) { return candidate }
        }
        throw ChildProcessError(.executableNotFound, "\(executable) was not found in PATH.", executable: executable)
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
