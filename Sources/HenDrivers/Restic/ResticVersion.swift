import Foundation
import HenProcess
import Synchronization

/// The version of a restic binary, and the features the driver uses from it.
struct ResticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    var major: Int
    var minor: Int
    var patch: Int

    /// Debian 12's restic: everything the driver does works with it.
    static let floor = ResticVersion(major: 0, minor: 14, patch: 0)

    /// Parses `restic 0.14.0 compiled with go1.19.8 on linux/amd64` (and `0.16.4-dev`, `v0.17.1`).
    init?(versionOutput text: String) {
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            var token = Substring(word)
            if token.hasPrefix("v") { token = token.dropFirst() }
            let numbers = token.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
            guard numbers.count >= 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { continue }
            self.init(major: major, minor: minor, patch: numbers.count > 2 ? Int(numbers[2]) ?? 0 : 0)
            return
        }
        return nil
    }

    init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    var description: String { "\(major).\(minor).\(patch)" }

    /// `--retry-lock` (0.16).
    var supportsRetryLock: Bool { self >= ResticVersion(major: 0, minor: 16, patch: 0) }
    /// Exit code 10 = no repository, 11 = locked, 12 = wrong password (0.17).
    var hasDistinctExitCodes: Bool { self >= ResticVersion(major: 0, minor: 17, patch: 0) }
}

/// `restic version` is read once per executable for the life of the process.
enum ResticVersionCache {
    private static let versions = Mutex<[String: ResticVersion]>([:])

    static func cached(_ executable: String) -> ResticVersion? {
        versions.withLock { $0[executable] }
    }

    static func store(_ version: ResticVersion, for executable: String) {
        versions.withLock { $0[executable] = version }
    }
}

/// restic's version kept on disk as well (`hen-restic-version` in the data directory's restic cache), so that
/// a short-lived process (an in-process `hen-backup backup`) does not start restic one more time only to
/// ask it. An entry counts only for the same executable file: resolved path, size, modification time and
/// inode, so a restic that was replaced is asked again.
enum ResticVersionFile {
    static let name = "hen-restic-version"

    /// What identifies the executable's file, or nil when it cannot be found.
    static func identity(of executable: String) -> String? {
        let candidates: [String]
        if executable.contains("/") {
            candidates = [executable]
        } else {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
            candidates = path.split(separator: ":").map { "\($0)/\(executable)" }
        }
        for candidate in candidates {
            var info = stat()
            guard stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            return "\(candidate)\t\(info.st_size)\t\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\t\(info.st_ino)"
        }
        return nil
    }

    static func read(_ executable: String, directory: String?) -> ResticVersion? {
        guard let directory, let identity = identity(of: executable),
              let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(identity + "\t") {
            return ResticVersion(versionOutput: String(line.dropFirst(identity.count + 1)))
        }
        return nil
    }

    /// Replaces the entry of this executable (others stay: a configuration may name several).
    static func write(_ version: ResticVersion, for executable: String, directory: String?) {
        guard let directory, let identity = identity(of: executable) else { return }
        let path = directory + "/" + name
        let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let pathKey = String(identity.prefix { $0 != "\t" }) + "\t"
        let kept = old.split(separator: "\n").filter { !$0.hasPrefix(pathKey) }
        let text = (kept.map(String.init) + ["\(identity)\t\(version)"]).joined(separator: "\n") + "\n"
        // Only into a cache directory that exists (restic makes it on its first backup): a `config check`
        // must not create the data directory.
        guard FileManager.default.fileExists(atPath: directory) else { return }
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
