import Foundation
import HenProcess

/// A hook around a job: a command or an HTTP call, and what a failure of it means for the job.
public struct HookDefinition: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case command(CommandHook)
        case http(HTTPHook)
    }
    public var action: Action
    public var onFailure: HookFailurePolicy

    public init(action: Action, onFailure: HookFailurePolicy = .continue) {
        self.action = action
        self.onFailure = onFailure
    }
}

/// What a failed hook does to its job.
public enum HookFailurePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Logged, and a warning is recorded; the job is not affected.
    case ignore
    /// The job goes on and ends `failed`.
    case `continue`
    /// Stop now: skip the phase's remaining hooks and the operation, run the failure and finally hooks.
    case `break`
}

/// The moments around a job at which hooks run.
public enum HookPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case before, after, failure, finally
    /// After a backup whose new snapshot removed more files than the backup's `alarm` allows.
    case alarm
}

public struct CommandHook: Sendable, Hashable {
    public enum Invocation: Sendable, Hashable {
        /// Run directly, without a shell.
        case argv([String])
        /// Run by `/bin/sh -c`.
        case shell(String)
    }
    public var invocation: Invocation
    public var workingDirectory: String?
    public var environment: [String: Secret]
    /// Seconds; nil means the job's own limit.
    public var timeout: Double?

    public init(invocation: Invocation, workingDirectory: String? = nil, environment: [String: Secret] = [:], timeout: Double? = nil) {
        self.invocation = invocation
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.timeout = timeout
    }
}

public struct HTTPHook: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case text(String)
        /// Sent as JSON.
        case json(String)
    }
    public var url: String
    public var method: String
    public var headers: [String: Secret]
    /// Nil sends the default JSON description of the job.
    public var body: Body?
    public var timeout: Double
    public var retries: Int
    /// Accepted status codes; empty means any 2xx.
    public var expectStatus: [Int]
    public var caFile: String?
    public var insecure: Bool
    /// Parts of `url` that are secret: the values `${VAR}` put there (a Slack webhook's path, a
    /// healthchecks UUID). Replaced by `***` wherever the URL is shown or logged.
    public var urlSecrets: [Secret] = []

    public init(url: String, method: String = "POST", headers: [String: Secret] = [:], body: Body? = nil, timeout: Double = 30, retries: Int = 0, expectStatus: [Int] = [], caFile: String? = nil, insecure: Bool = false) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.retries = retries
        self.expectStatus = expectStatus
        self.caFile = caFile
        self.insecure = insecure
    }
}
