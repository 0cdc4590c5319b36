import Foundation
import HenDrivers

/// The files a drill restores: a random sample of a snapshot's files, the same for the same seed (the job
/// id), files not drilled before first. Built in one pass over the listing with at most twice the sample
/// in memory: every file gets a key (drilled before or not, then a hash of seed and path) and the files
/// with the smallest keys are kept.
struct DrillSample {
    struct Candidate {
        var node: Node
        var drilledBefore: Bool
        var rank: UInt64
    }

    let seed: String
    let size: Int
    let drilled: Set<String>
    private(set) var kept: [Candidate] = []

    init(seed: String, size: Int, drilled: Set<String>) {
        self.seed = seed
        self.size = max(0, size)
        self.drilled = drilled
        kept.reserveCapacity(min(self.size, 100_000) * 2)
    }

    mutating func offer(_ node: Node) {
        guard size > 0, node.kind == .file else { return }
        kept.append(Candidate(node: node, drilledBefore: drilled.contains(node.path), rank: Self.rank(seed: seed, path: node.path)))
        if kept.count >= size * 2 { trim() }
    }

    /// The sample, in key order, within `maxBytes` when given (a file that would go over is passed by for
    /// smaller ones).
    mutating func finish(maxBytes: Int?) -> [Node] {
        trim()
        guard let maxBytes else { return kept.map(\.node) }
        var total: UInt64 = 0
        var chosen: [Node] = []
        for candidate in kept {
            let size = candidate.node.size ?? 0
            if total + size > UInt64(maxBytes) { continue }
            total += size
            chosen.append(candidate.node)
        }
        return chosen
    }

    private mutating func trim() {
        kept.sort { ($0.drilledBefore ? 1 : 0, $0.rank, $0.node.path) < ($1.drilledBefore ? 1 : 0, $1.rank, $1.node.path) }
        if kept.count > size { kept.removeLast(kept.count - size) }
    }

    /// FNV-1a of seed, NUL, path: stable across processes and runs (Swift's `Hasher` is seeded per process).
    static func rank(seed: String, path: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash = (hash ^ 0) &* 0x0000_0100_0000_01b3
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        // A final mix, so that paths differing only at the end spread over the whole range.
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}
