import HenDrivers
import HenProcess

extension JobRecord {
    /// The record with every secret of `redactor` replaced by `***` in what a job's work wrote into it:
    /// the error, warnings, log lines, step names and messages, and hook output.
    public func redacted(by redactor: SecretRedactor) -> JobRecord {
        guard !redactor.isEmpty else { return self }
        var record = self
        record.error = error.map(redactor.redact)
        record.warnings = warnings.map(redactor.redact)
        record.log = log.map { JobLogLine(time: $0.time, level: $0.level, message: redactor.redact($0.message)) }
        record.steps = steps.map { $0.redacted(by: redactor) }
        return record
    }
}

extension JobStep {
    public func redacted(by redactor: SecretRedactor) -> JobStep {
        guard !redactor.isEmpty else { return self }
        var step = self
        step.name = redactor.redact(name)
        step.message = message.map(redactor.redact)
        step.hook?.output = redactor.redact(hook?.output ?? "")
        return step
    }
}

extension JobUpdate {
    /// The update with the configuration's secrets redacted, before it reaches the record, the log, the
    /// store or any subscriber.
    func redacted(by redactor: SecretRedactor) -> JobUpdate {
        guard !redactor.isEmpty else { return self }
        switch self {
        case .step(let step): return .step(step.redacted(by: redactor))
        case .driver(.warning(let message)): return .driver(.warning(redactor.redact(message)))
        case .driver(.log(let level, let message)): return .driver(.log(level: level, message: redactor.redact(message)))
        case .driver: return self
        case .result: return self
        case .warning(let message): return .warning(redactor.redact(message))
        case .log(let level, let message): return .log(level, redactor.redact(message))
        }
    }
}
