import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a restore requested through the API may write: inside one of `restore.allowed_targets`, judged
/// after symbolic links are resolved, so that neither `..` nor a link inside an allowed directory leads out.
enum RestoreTarget {
    /// The target to hand the driver: its real location, spelled below the allowed directory it is in.
    static func resolve(_ target: String, allowedTargets: [String]) throws -> String {
        guard !allowedTargets.isEmpty else {
            throw EngineError(.invalidRequest, "Restores through the API are turned off: restore.allowed_targets in the configuration is empty.")
        }
        guard target.hasPrefix("/") else {
            throw EngineError(.invalidRequest, "The restore target \(target) must be an absolute path.")
        }
        let components = target.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        if components.contains("..") {
            throw EngineError(.invalidRequest, "The restore target \(target) climbs with \"..\"; give the directory itself.")
        }
        let real = try realLocation(of: components.map(String.init))
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: real.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw EngineError(.invalidRequest, "The restore target \(target) is a file, not a directory.")
        }
        for allowed in allowedTargets {
            let spelled = lexical(allowed)
            let allowedReal = (try? realLocation(of: spelled.split(separator: "/").map(String.init)).path) ?? spelled
            if real.path == allowedReal { return spelled }
            let prefix = allowedReal == "/" ? "/" : allowedReal + "/"
            if real.path.hasPrefix(prefix) {
                let rest = String(real.path.dropFirst(prefix.count))
                return spelled == "/" ? "/" + rest : spelled + "/" + rest
            }
        }
        let through = real.throughLink ? " (through a symbolic link, it leads to \(real.path))" : ""
        throw EngineError(.invalidRequest, "Restores may only write below \(allowedTargets.joined(separator: ", ")); \(target) is outside them\(through).")
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
        return (path, base != existingPath)
    }

    /// An absolute path without `.`, empty components or a trailing slash (`..` resolved as written).
    private static func lexical(_ path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            if component == ".." { _ = components.popLast() } else { components.append(component) }
        }
        return "/" + components.joined(separator: "/")
    }
}
