import Foundation

/// What went wrong in a driver, in one sentence for the person who must fix it.
public struct DriverError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let wrongPassword = Code(rawValue: "wrong_password")
        public static let repositoryMissing = Code(rawValue: "repository_missing")
        public static let repositoryLocked = Code(rawValue: "repository_locked")
        public static let backendUnreachable = Code(rawValue: "backend_unreachable")
        public static let binaryMissing = Code(rawValue: "binary_missing")
        public static let sourceMissing = Code(rawValue: "source_missing")
        public static let snapshotNotFound = Code(rawValue: "snapshot_not_found")
        public static let pathNotFound = Code(rawValue: "path_not_found")
        public static let invalidRequest = Code(rawValue: "invalid_request")
        public static let unsupported = Code(rawValue: "unsupported")
        public static let unknownDriver = Code(rawValue: "unknown_driver")
        public static let checkFailed = Code(rawValue: "check_failed")
        public static let cancelled = Code(rawValue: "cancelled")
        public static let failed = Code(rawValue: "failed")

        /// Every code a driver may report (a plugin's error must use one of them).
        public static let all: [Code] = [
            .wrongPassword, .repositoryMissing, .repositoryLocked, .backendUnreachable, .binaryMissing, .sourceMissing,
            .snapshotNotFound, .pathNotFound, .invalidRequest, .unsupported, .unknownDriver, .checkFailed, .cancelled, .failed,
        ]
    }

    public var code: Code
    /// One sentence, naming the repository, that says what is wrong and, where it can, what to do.
    public var message: String
    public var repository: String?
    /// The tool's own words (a few lines of stderr, secrets redacted), for the job log.
    public var detail: String?

    public init(_ code: Code, _ message: String, repository: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.repository = repository
        self.detail = detail
    }

    public var description: String { message }
}
