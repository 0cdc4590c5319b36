import Logging

extension JobRecord {
    /// What every log line of a job carries: trigger → job → operation → backup/repository. Steps add
    /// `step` and `repository`, drivers and hooks add `component`.
    var logIdentity: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "job_id": "\(id)", "operation": "\(operation)", "target": "\(target)", "trigger": "\(trigger.kind)",
        ]
        switch trigger {
        case .schedule(let text): metadata["schedule"] = "\(text)"
        case .watch(let paths, let count):
            metadata["watch_paths"] = .array(paths.map { .string($0) })
            metadata["watch_changes"] = "\(count)"
        default: break
        }
        if let backup = request.backup { metadata["backup"] = "\(backup)" }
        if repositories.count == 1 { metadata["repository"] = "\(repositories[0])" }
        return metadata
    }
}

extension Logger {
    /// This logger with a job's identity on every line.
    func forJob(_ record: JobRecord) -> Logger {
        var jobLogger = self
        for (key, value) in record.logIdentity { jobLogger[metadataKey: key] = value }
        return jobLogger
    }

    /// One line about a job, with its identity.
    func log(job record: JobRecord, _ message: String, level: Logger.Level = .info) {
        log(level: level, "\(message)", metadata: record.logIdentity)
    }
}
