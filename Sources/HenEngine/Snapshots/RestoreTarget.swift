import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a restore requested through the API may write: inside one of `restore.allowed_targets`, judged
/// after symbolic links are resolved, so that neither `..` nor a link inside an allowed directory leads out.
/// Judged when the restore is asked for (an early answer) and again when it starts (``RestoreStaging``),
/// because the disk may change while the job waits in the queue.
enum RestoreTarget {
    /// A target found inside an allowed directory.
    struct Location: Sendable, Equatable {
        /// The allowed directory as configured (without `.`, `..` or a trailing slash).
        var allowed: String
        /// The allowed directory's real location (symbolic links resolved: the configuration is trusted).
        var allowedReal: String
        /// The components below the allowed directory, none of them `.`, `..` or a link when it was checked.
        var below: [String]
        /// The target spelled below the allowed directory as configured.
        var spelled: String { below.isEmpty ? allowed : (allowed == "/" ? "" : allowed) + "/" + below.joined(separator: "/") }
    }

    /// The target to hand the driver: its real location, spelled below the allowed directory it is in.
    static func resolve(_ target: String, allowedTargets: [String]) throws -> String {
        try locate(target, allowedTargets: allowedTargets).spelled
    }

    /// The allowed directory the target is in, and the target's real components below it.
    static func locate(_ target: String, allowedTargets: [String]) throws -> Location {
        try checkSpelling(target)
        guard !allowedTargets.isEmpty else {
            throw EngineError(.invalidRequest, "Restores through the API are turned off: restore.allowed_targets in the configuration is empty.")
        }
        let components = PathText.components(target).filter { $0 != "." }
        if components.contains("..") {
            throw EngineError(.invalidRequest, "The restore target \(target) climbs with \"..\"; give the directory itself.")
        }
        let real = try realLocation(of: components)
        try refuseStaging(real.path, spelled: target)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: real.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw EngineError(.invalidRequest, "The restore target \(target) is a file, not a directory.")
        }
        for allowed in allowedTargets {
            let spelled = lexical(allowed)
            let allowedReal = (try? realLocation(of: PathText.components(spelled)).path) ?? spelled
            // Bytes, not characters (PathText.components says why).
            if real.path.utf8.elementsEqual(allowedReal.utf8) { return Location(allowed: spelled, allowedReal: allowedReal, below: []) }
            let prefix = allowedReal == "/" ? "/" : allowedReal + "/"
            if real.path.utf8.starts(with: prefix.utf8) {
                let below = PathText.components(String(decoding: real.path.utf8.dropFirst(prefix.utf8.count), as: UTF8.self))
                return Location(allowed: spelled, allowedReal: allowedReal, below: below)
            }
        }
        let through = real.throughLink ? " (through a symbolic link, it leads to \(real.path))" : ""
        throw EngineError(.invalidRequest, "Restores may only write below \(allowedTargets.joined(separator: ", ")); \(target) is outside them\(through).")
    }

    /// What every target must be, wherever the restore may write: absolute, without a NUL, not inside a
    /// staging directory.
    static func checkSpelling(_ target: String) throws {
        try PathText.refuseNUL(target, "The restore target")
        guard PathText.isAbsolute(target) else {
            throw EngineError(.invalidRequest, "The restore target \(target) must be an absolute path.")
        }
        try refuseStaging(target, spelled: target)
    }

    /// A target in Hen's staging of another restore (as spelled, or once links are resolved).
    private static func refuseStaging(_ path: String, spelled target: String) throws {
        if PathText.components(path).contains(where: { $0.utf8.starts(with: RestoreStaging.prefix.utf8) }) {
            throw EngineError(.invalidRequest, "The restore target \(target) lies in a directory named \(RestoreStaging.prefix)…, which is Hen's staging of another restore; choose another target.")
        }
    }

    /// The path with its existing part resolved through symbolic links (`realpath`) and the part that does
    /// not exist yet appended as written; `throughLink` when a link was followed.
    private static func realLocation(of components: [String]) throws -> (path: String, throughLink: Bool) {
        var existing = components.count
        while existing > 0 {
            let candidate = "/" + components.prefix(existing).joined(separator: "/")
            var info = stat()
            if lstat(candidate, &info) == 0 { break }
            existing -= 1
        }
        let existingPath = "/" + components.prefix(existing).joined(separator: "/")
        guard let resolved = realpath(existingPath, nil) else {
            throw EngineError(.invalidRequest, "The restore target \(existingPath) cannot be resolved: \(String(cString: strerror(errno))).")
        }
        defer { free(resolved) }
        let base = String(cString: resolved)
        let rest = components.dropFirst(existing)
        let path = rest.isEmpty ? base : (base == "/" ? "" : base) + "/" + rest.joined(separator: "/")
        return (path, !base.utf8.elementsEqual(existingPath.utf8))
    }

    /// An absolute path without `.`, empty components or a trailing slash (`..` resolved as written).
    private static func lexical(_ path: String) -> String {
        var components: [String] = []
        for component in PathText.components(path) where component != "." {
            if component == ".." { _ = components.popLast() } else { components.append(component) }
        }
        return "/" + components.joined(separator: "/")
    }
}
