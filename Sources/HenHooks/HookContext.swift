import Foundation
import HenJSON

/// What a hook knows about its job: exported as `HEN_*` environment variables to command hooks and
/// substituted for `{{job.*}}` placeholders in HTTP hooks.
public struct HookContext: Sendable, Hashable {
    public var jobID: String
    /// `backup`, `prune`, `check`, ...
    public var operation: String
    /// The backup's name; nil for operations on a repository alone.
    public var backup: String?
    public var repositories: [String]
    /// `schedule`, `watch`, `api`, `cli`, `startup`.
    public var trigger: String
    /// The job's state when the phase runs: `running` for before/after, the final state for failure/finally.
    public var state: String
    /// The job's error sentence, once there is one.
    public var error: String?
    public var snapshotIDs: [String]
    public var hostname: String

    public init(
        jobID: String,
        operation: String,
        backup: String? = nil,
        repositories: [String] = [],
        trigger: String,
        state: String,
        error: String? = nil,
        snapshotIDs: [String] = [],
        hostname: String
    ) {
        self.jobID = jobID
        self.operation = operation
        self.backup = backup
        self.repositories = repositories
        self.trigger = trigger
        self.state = state
        self.error = error
        self.snapshotIDs = snapshotIDs
        self.hostname = hostname
    }

    /// The `HEN_*` variables given to command hooks. Absent values are empty strings, lists are comma-separated.
    public var environment: [String: String] {
        [
            "HEN_JOB_ID": jobID,
            "HEN_OPERATION": operation,
            "HEN_BACKUP": backup ?? "",
            "HEN_REPOSITORIES": repositories.joined(separator: ","),
            "HEN_TRIGGER": trigger,
            "HEN_STATE": state,
            "HEN_ERROR": error ?? "",
            "HEN_SNAPSHOT_IDS": snapshotIDs.joined(separator: ","),
            "HEN_HOSTNAME": hostname,
        ]
    }

    /// Every placeholder an HTTP hook may use, as written between `{{` and `}}`.
    public static let placeholderNames: [String] = [
        "job.id", "job.operation", "job.backup", "job.repositories", "job.trigger", "job.state",
        "job.error", "job.snapshot_ids", "hostname",
    ]

    /// The text a placeholder stands for (the same text as the matching `HEN_*` variable).
    public func placeholderValue(_ name: String) -> String? {
        switch name {
        case "job.id": jobID
        case "job.operation": operation
        case "job.backup": backup ?? ""
        case "job.repositories": repositories.joined(separator: ",")
        case "job.trigger": trigger
        case "job.state": state
        case "job.error": error ?? ""
        case "job.snapshot_ids": snapshotIDs.joined(separator: ",")
        case "hostname": hostname
        default: nil
        }
    }

    /// The body an HTTP hook sends when its definition has none (documented in docs/hooks.md):
    /// `{"event": "hen.hook", "phase": ..., "hostname": ..., "job": {"id", "operation", "backup",
    /// "repositories", "trigger", "state", "error", "snapshot_ids"}}`, keys sorted, absent values null.
    public func defaultJSONBody(phase: HookPhase) -> [UInt8] {
        struct Job: Encodable {
            var id: String
            var operation: String
            var backup: String?
            var repositories: [String]
            var trigger: String
            var state: String
            var error: String?
            var snapshotIDs: [String]
        }
        struct Body: Encodable {
            var event = "hen.hook"
            var phase: String
            var hostname: String
            var job: Job
        }
        let body = Body(
            phase: phase.rawValue,
            hostname: hostname,
            job: Job(id: jobID, operation: operation, backup: backup, repositories: repositories, trigger: trigger, state: state, error: error, snapshotIDs: snapshotIDs)
        )
        // HenJSON's convention, as the API's: snake_case keys, absent values null, keys sorted.
        // Strings, arrays and nulls always encode; a failure here would be a Foundation bug.
        return (try? Array(HenJSON.encoder().encode(body))) ?? Array("{}".utf8)
    }
}
