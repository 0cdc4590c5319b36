/// The queue of jobs waiting to run and the set of jobs running: decides what starts next.
///
/// Order: `immediate`, then `next`, then integer levels (higher first), then `on-idle`; first in, first out
/// within a priority. `immediate` starts past `max_concurrent_jobs`; `on-idle` only when nothing else is
/// queued or running. Two jobs on one repository never run together when either is exclusive (prune,
/// forget, check, unlock, init); two backups share a repository only when its driver allows concurrent
/// backups. A job blocked by a collision does not hold up the jobs behind it.
public actor JobQueue {
    /// A job as the queue sees it.
    public struct Entry: Sendable, Hashable {
        public var id: String
        public var operation: JobOperation
        public var priority: JobPriority
        public var repositories: [String]

        public init(id: String, operation: JobOperation, priority: JobPriority, repositories: [String]) {
            self.id = id
            self.operation = operation
            self.priority = priority
            self.repositories = repositories
        }
    }

    public enum Admission: Sendable, Hashable {
        case queued
        /// An identical job was already queued; its priority is now `priority`.
        case existing(id: String, priority: JobPriority)
    }

    private struct Queued {
        var entry: Entry
        var sequence: UInt64
    }

    public private(set) var maxConcurrentJobs: Int
    private var concurrentBackupRepositories: Set<String>
    private var queued: [Queued] = []
    private var running: [String: Entry] = [:]
    private var sequence: UInt64 = 0

    /// - Parameter concurrentBackupRepositories: repositories whose driver lets backups share them.
    public init(maxConcurrentJobs: Int, concurrentBackupRepositories: Set<String> = []) {
        self.maxConcurrentJobs = max(1, maxConcurrentJobs)
        self.concurrentBackupRepositories = concurrentBackupRepositories
    }

    /// A reloaded configuration's limits: they apply to the next job started; running ones go on.
    public func reconfigure(maxConcurrentJobs: Int, concurrentBackupRepositories: Set<String>) {
        self.maxConcurrentJobs = max(1, maxConcurrentJobs)
        self.concurrentBackupRepositories = concurrentBackupRepositories
    }

    /// Queues a job, unless an identical one (same operation and target) is queued already: then that one
    /// keeps its place, takes the higher of the two priorities, and is the answer.
    public func enqueue(_ entry: Entry) -> Admission {
        // The same job twice (a recovered record the engine already knows) would occupy its repository
        // as a phantom: answer with the one there is.
        if let known = running[entry.id] ?? queued.first(where: { $0.entry.id == entry.id })?.entry {
            return .existing(id: known.id, priority: known.priority)
        }
        if let index = queued.firstIndex(where: { $0.entry.operation == entry.operation }) {
            if entry.priority.queueRank > queued[index].entry.priority.queueRank {
                queued[index].entry.priority = entry.priority
            }
            return .existing(id: queued[index].entry.id, priority: queued[index].entry.priority)
        }
        sequence += 1
        queued.append(Queued(entry: entry, sequence: sequence))
        return .queued
    }

    /// Removes a queued job; false when it is not queued.
    public func remove(id: String) -> Bool {
        guard let index = queued.firstIndex(where: { $0.entry.id == id }) else { return false }
        queued.remove(at: index)
        return true
    }

    /// Takes the jobs that may start now, in order, and counts them as running.
    public func takeStartable() -> [Entry] {
        var started: [Entry] = []
        for candidate in ordered {
            guard canStart(candidate.entry) else { continue }
            queued.removeAll { $0.entry.id == candidate.entry.id }
            running[candidate.entry.id] = candidate.entry
            started.append(candidate.entry)
        }
        return started
    }

    /// A running job ended.
    public func finished(id: String) {
        running[id] = nil
    }

    /// Queued jobs in the order they would start.
    public var queuedEntries: [Entry] { ordered.map(\.entry) }
    public var runningEntries: [Entry] { Array(running.values) }
    public var isIdle: Bool { queued.isEmpty && running.isEmpty }

    private var ordered: [Queued] {
        queued.sorted { a, b in
            let rankA = a.entry.priority.queueRank, rankB = b.entry.priority.queueRank
            return rankA != rankB ? rankA > rankB : a.sequence < b.sequence
        }
    }

    private func canStart(_ entry: Entry) -> Bool {
        switch entry.priority {
        case .immediate:
            break
        case .onIdle:
            // Nothing else queued (other on-idle jobs wait their turn behind this one) and nothing running.
            guard running.isEmpty else { return false }
            let othersQueued = queued.contains { $0.entry.id != entry.id && $0.entry.priority != .onIdle }
            guard !othersQueued else { return false }
        case .next, .level:
            let limited = running.values.filter { $0.priority != .immediate }.count
            guard limited < maxConcurrentJobs else { return false }
        }
        return !running.values.contains { collides(entry, $0) }
    }

    private func collides(_ a: Entry, _ b: Entry) -> Bool {
        let shared = Set(a.repositories).intersection(b.repositories)
        guard !shared.isEmpty else { return false }
        if a.operation.isExclusive || b.operation.isExclusive { return true }
        if case .backup = a.operation, case .backup = b.operation {
            return !shared.isSubset(of: concurrentBackupRepositories)
        }
        return false
    }
}

extension JobPriority {
    /// Higher runs first: immediate > next > any level > on-idle.
    var queueRank: Double {
        switch self {
        case .immediate: .infinity
        case .next: .greatestFiniteMagnitude
        case .level(let value): Double(value)
        case .onIdle: -.infinity
        }
    }
}
