import Foundation
import Testing
@testable import HenEngine

/// Several processes (the daemon, a CLI, a test) may open a new store at the same moment: they take turns
/// to create and migrate it (``MigrationLock``) instead of one failing with "table … already exists" or
/// "database is locked". Separate connection pools in one process race the same way.
@Suite struct StoreOpeningTests {
    static func openTogether(rounds: Int = 10, width: Int = 6, _ open: @escaping @Sendable (String) throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-open-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for round in 0..<rounds {
            let path = "\(root)/\(round)/store.sqlite"
            let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<width {
                    group.addTask {
                        // A thread of its own each, so the opens really overlap.
                        await withCheckedContinuation { continuation in
                            Thread.detachNewThread {
                                do { try open(path); continuation.resume(returning: nil) } catch { continuation.resume(returning: "\(error)") }
                            }
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(failures.isEmpty, "round \(round): \(failures)")
        }
    }

    @Test func snapshotIndexesOpenedTogetherAllOpen() async throws {
        try await Self.openTogether { path in
            let store = try SnapshotIndexStore(path: path, identities: ["local": "restic /srv/repo"])
            _ = store.path
        }
    }

    @Test func jobStoresOpenedTogetherAllOpen() async throws {
        try await Self.openTogether { path in _ = try JobStore(path: path) }
    }
}
