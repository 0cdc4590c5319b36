import Foundation
import HenProcess

extension ResticDriver {
    public func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary {
        guard request.target.hasPrefix("/") else {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": the restore target \(request.target) is not absolute.")
        }
        let includes = try request.includes.map(normalizedSnapshotPath)
        let snapshotID: String
        if request.verified, Self.isFullID(request.snapshot) {
            // The caller checked the snapshot and the includes (no restic run to learn it again).
            snapshotID = request.snapshot.lowercased()
        } else {
            snapshotID = try await resolveSnapshot(request.snapshot).id
            // restic restores nothing, silently, for an include that names nothing: say so instead.
            if !request.includesAreListedPaths {
                for include in includes where !include.contains(where: { "*?[".contains($0) }) {
                    for try await _ in list(snapshot: snapshotID, path: include) { break }
                }
            }
        }
        var arguments = ["restore", "--json", snapshotID, "--target", request.target, "--host", context.hostname]
        for include in includes {
            // restic reads includes as patterns: a listed path's `*`, `?`, `[` and `\` are escaped to stand for themselves.
            arguments += ["--include", request.includesAreListedPaths ? Self.literalPattern(include) : include]
        }

        var report = ResticRunReport()
        _ = try await runToCompletion(
            arguments,
            operation: "restore",
            events: events,
            beforeAttempt: { report = ResticRunReport() },
            onLine: { line in follow(line, into: &report, events: events) }
        )
        // restic 0.17+ counts in its JSON summary; 0.14 prints a sentence and no counts.
        return RestoreSummary(filesRestored: report.summary?.filesRestored, bytesRestored: report.summary?.bytesRestored, warnings: report.warnings)
    }

    /// A path as a restic pattern that matches only itself.
    static func literalPattern(_ path: String) -> String {
        var pattern = ""
        for character in path {
            if "*?[\\".contains(character) { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern
    }
}
