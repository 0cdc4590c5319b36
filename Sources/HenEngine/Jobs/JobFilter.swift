import Foundation

/// Which job records to list. Every set field must match.
public struct JobFilter: Sendable, Hashable {
    public var states: [JobState]
    /// The backup a job belongs to (its target for backup and prune jobs).
    public var backup: String?
    /// The backup or repository a job works on.
    public var target: String?
    public var operation: JobOperation.Kind?
    /// At most this many, newest first.
    public var limit: Int
    /// Only records older than this one (the last of the previous page).
    public var after: Cursor?

    /// A place in the newest-first order: a record's queue time and id. ``text`` is opaque to clients.
    public struct Cursor: Sendable, Hashable {
        public var queuedAt: Double
        public var id: String
        public init(queuedAt: Double, id: String) {
            self.queuedAt = queuedAt
            self.id = id
        }
        public init(after record: JobRecord) {
            self.init(queuedAt: record.queuedAt.timeIntervalSince1970, id: record.id)
        }
        public var text: String { Data("\(queuedAt)|\(id)".utf8).base64EncodedString() }
        public init?(text: String) {
            guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
                let bar = decoded.firstIndex(of: "|"), let queuedAt = Double(decoded[..<bar])
            else { return nil }
            self.init(queuedAt: queuedAt, id: String(decoded[decoded.index(after: bar)...]))
        }
    }

    public init(states: [JobState] = [], backup: String? = nil, target: String? = nil, operation: JobOperation.Kind? = nil, limit: Int = 50, after: Cursor? = nil) {
        self.after = after
        self.states = states
        self.backup = backup
        self.target = target
        self.operation = operation
        self.limit = limit
    }
}
