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
