import Foundation
import HenPluginProtocol
import Testing
@testable import HenEngine

/// A tree index's rows are bound through SQLite's C API (``RawRow``): every value comes back as it went in.
@Suite struct SnapshotIndexInsertTests {
    @Test func nodesComeBackAsTheyWereIndexed() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-insert-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SnapshotIndexStore(path: "\(root)/snapshots.sqlite", identities: ["local": "restic /srv/repo"])
        let tree = try await store.beginTree(repository: "local", snapshotID: String(repeating: "ab", count: 32), at: Date())
        let nodes = [
            Node(path: "/d", kind: .directory, size: nil, mode: 0o755, modificationTime: Date(timeIntervalSince1970: 1_795_839_679.576655), linkTarget: nil),
            Node(path: "/d/é 😀\u{301}", kind: .file, size: UInt64.max, mode: 0o4644, modificationTime: nil, linkTarget: nil),
            Node(path: "/d/empty", kind: .file, size: 0, mode: 0, modificationTime: Date(timeIntervalSince1970: 0), linkTarget: nil),
            Node(path: "/d/l", kind: .symlink, size: nil, mode: nil, modificationTime: nil, linkTarget: ""),
            Node(path: "/d/m", kind: .symlink, size: 3, mode: 0o777, modificationTime: nil, linkTarget: "../x y"),
            Node(path: "/d/p", kind: .other, size: nil, mode: nil, modificationTime: nil, linkTarget: nil),
        ]
        try await store.insert(nodes, tree: tree)
        // INSERT OR REPLACE: a node given twice keeps its last values.
        try await store.insert([Node(path: "/d/p", kind: .other, size: 7)], tree: tree)
        let children = try await store.children(tree: tree, directory: "/d", after: nil, limit: 100)
        var expected = Array(nodes.dropFirst())
        expected[expected.count - 1] = Node(path: "/d/p", kind: .other, size: 7)
        // UInt64.max is stored clamped to Int64.max, as before.
        expected[0].size = UInt64(Int64.max)
        #expect(children.sorted { $0.name < $1.name } == expected.sorted { $0.name < $1.name })
        #expect(try await store.node(tree: tree, path: "/d") == nodes[0])
        #expect(try await store.node(tree: tree, path: "/d/l")?.linkTarget == "")
    }
}
