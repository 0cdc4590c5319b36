/// What went wrong when asking the engine for something, in one sentence naming what is affected.
public struct EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No job, backup or repository by that name or id.
        public static let notFound = Code(rawValue: "not_found")
        /// The request makes no sense for this configuration (an empty backup, a prune without retention…).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// A parameter is malformed (a cursor this server never gave out); HTTP answers 400.
        public static let badRequest = Code(rawValue: "bad_request")
        /// The job already ended, or runs in another process.
        public static let conflict = Code(rawValue: "conflict")
        /// The configuration is in recovery mode and the request would write to a repository.
        public static let readOnly = Code(rawValue: "read_only")
        /// The engine is shutting down and accepts no new jobs.
        public static let shuttingDown = Code(rawValue: "shutting_down")
        /// The job store could not be read or written.
        public static let store = Code(rawValue: "store")
        /// The job store cannot record a job now (its disk is full, it cannot be written): try again later.
        public static let storeUnavailable = Code(rawValue: "store_unavailable")
        /// Another process (a daemon, an in-process job) holds the data directory.
        public static let dataDirectoryInUse = Code(rawValue: "data_dir_in_use")
        /// A running job's own work on disk failed (a restore could not move its files into place).
        public static let failed = Code(rawValue: "failed")
        /// A repository could not be read (unreachable backend, wrong password, a driver failure).
        public static let repository = Code(rawValue: "repository")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
