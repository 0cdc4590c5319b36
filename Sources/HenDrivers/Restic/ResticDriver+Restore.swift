import Foundation
import HenProcess

extension ResticDriver {
    public func restore(_ request: RestoreRequest, events: DriverEventHandler) async throws -> RestoreSummary {
        guard request.target.hasPrefix("/") else {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": the restore target \(request.target) is not absolute.")
        }
        let includes = try request.includes.map(normalizedSnapshotPath)
        let snapshot = try await resolveSnapshot(request.snapshot)
        // restic restores nothing, silently, for an include that names nothing: say so instead.
        for include in includes where !include.contains(where: { "*?[".contains($0) }) {
            for try await _ in list(snapshot: snapshot.id, path: include) { break }
        }
        var arguments = ["restore", "--json", snapshot.id, "--target", request.target, "--host", context.hostname]
        for include in includes { arguments += ["--include", include] }

        var summary: ResticMessage?
        var warnings: [String] = []
        _ = try await runToCompletion(
            arguments,
            operation: "restore",
            events: events,
            beforeAttempt: {
                summary = nil
                warnings = []
            },
            onLine: { line in
                guard case .stdout(let text) = line else { return }
                // restic 0.17+ prints JSON; 0.14 prints a sentence (and its errors on stderr).
                guard let message = ResticMessage.decode(text) else {
                    log(text, events: events)
                    return
                }
                switch message.messageType {
                case "status":
                    events(.progress(Progress(
                        fraction: message.percentDone,
                        filesDone: message.filesRestored ?? message.filesDone,
                        totalFiles: message.totalFiles,
                        bytesDone: message.bytesRestored ?? message.bytesDone,
                        totalBytes: message.totalBytes,
                        secondsElapsed: message.secondsElapsed,
                        secondsRemaining: message.secondsRemaining
                    )))
                case "error":
                    let warning = message.errorText
                    warnings.append(warning)
                    events(.warning(warning))
                case "summary":
                    summary = message
                default:
                    break
                }
            }
        )
        return RestoreSummary(filesRestored: summary?.filesRestored, bytesRestored: summary?.bytesRestored, warnings: warnings)
    }
}
