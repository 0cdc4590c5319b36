import Foundation

extension TarDriver {
    public func snapshots(_ filter: SnapshotFilter) -> AsyncThrowingStream<Snapshot, any Error> {
        let cursor = PullCursor<Snapshot> { [self] in
            try await requireInitialized()
            var snapshots = try snapshotHeaders().compactMap(\.snapshot).filter(filter.matches)
            snapshots.reverse() // popLast hands them out oldest first
            return { snapshots.popLast() }
        }
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }

    public func list(snapshot: String, path: String?) -> AsyncThrowingStream<Node, any Error> {
        let cursor = PullCursor<Node> { [self] in
            try await requireInitialized()
            let header = try resolveSnapshot(snapshot)
            let prefix = path.map(ExcludeMatcher.clean)
            guard let reader = try LineFileReader(path: manifestPath(header.id)) else {
                throw failure(.snapshotNotFound, "Tar repository \(repository.name) has no snapshot \(snapshot) of host \(context.hostname).")
            }
            _ = try reader.nextLine()
            var found = false
            return { [self] in
                while let line = try reader.nextLine() {
                    if line.isEmpty { continue }
                    let entry = try TarManifest.decode(TarManifest.Entry.self, from: line)
                    if let prefix, !Self.isInside(entry.path, prefix) { continue }
                    found = true
                    return entry.node
                }
                if let prefix, prefix != "/", !found {
                    throw failure(.pathNotFound, "Snapshot \(header.id.prefix(8)) in tar repository \(repository.name) has no path \(prefix).")
                }
                return nil
            }
        }
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }

    /// A file's bytes, or a tar stream of a directory (members named by their snapshot paths without the
    /// leading `/`), read from the archive while it decompresses.
    public func dump(snapshot: String, path: String) -> AsyncThrowingStream<[UInt8], any Error> {
        let cursor = PullCursor<[UInt8]> { [self] in
            try await requireInitialized()
            let header = try resolveSnapshot(snapshot)
            let target = ExcludeMatcher.clean(path)
            let kind = try nodeKind(snapshotID: header.id, path: target)
            if kind == .symlink || kind == .other {
                throw failure(.invalidRequest, "\(target) in snapshot \(header.id.prefix(8)) of tar repository \(repository.name) is not a file or directory and cannot be dumped.")
            }
            let source = ArchiveReader(driver: self, snapshotID: header.id)
            var queue: [[UInt8]] = []
            var inside = false
            var finished = false
            var current: TarEntryHeader?
            return { [self] in
                while queue.isEmpty, !finished {
                    guard let events = try await source.nextEvents() else {
                        if finished { break }
                        throw failure(.failed, "The archive of snapshot \(header.id.prefix(8)) in tar repository \(repository.name) ended before \(target) was complete.")
                    }
                    for event in events where !finished {
                        switch event {
                        case .entry(let entry):
                            let matches = Self.isInside(entry.snapshotPath, target)
                            if inside, !matches {
                                // Archives are written depth first, so a subtree is contiguous.
                                finished = true
                                if kind == .directory { queue.append(TarEntryHeader.endOfArchive) }
                                continue
                            }
                            inside = matches
                            current = entry
                            if matches, kind == .directory { queue.append(entry.encodedBlocks()) }
                        case .data(let bytes):
                            if inside { queue.append(Array(bytes)) }
                        case .entryEnd:
                            if inside, kind == .file {
                                finished = true
                            } else if inside, let current, current.kind == .file {
                                queue.append([UInt8](repeating: 0, count: TarEntryHeader.padding(current.size)))
                            }
                        case .end:
                            finished = true
                            if kind == .directory, inside { queue.append(TarEntryHeader.endOfArchive) }
                            if !inside {
                                throw failure(.failed, "The archive of snapshot \(header.id.prefix(8)) in tar repository \(repository.name) does not contain \(target), although its manifest does.")
                            }
                        }
                    }
                }
                if queue.isEmpty { return nil }
                return queue.removeFirst()
            }
        }
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }

    /// Whether `path` is `prefix` or below it.
    static func isInside(_ path: String, _ prefix: String) -> Bool {
        prefix == "/" || path == prefix || path.hasPrefix(prefix + "/")
    }

    /// The kind of the node at `path`, from the manifest; `.pathNotFound` when there is none.
    func nodeKind(snapshotID: String, path: String) throws -> Node.Kind {
        if path == "/" { return .directory }
        guard let reader = try LineFileReader(path: manifestPath(snapshotID)) else {
            throw failure(.snapshotNotFound, "Tar repository \(repository.name) has no snapshot \(snapshotID.prefix(8)).")
        }
        _ = try reader.nextLine()
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let entry = try TarManifest.decode(TarManifest.Entry.self, from: line)
            if entry.path == path { return entry.nodeKind }
        }
        throw failure(.pathNotFound, "Snapshot \(snapshotID.prefix(8)) in tar repository \(repository.name) has no path \(path).")
    }
}

/// A pull-based stream source: `start` runs on the first pull and returns the function that produces
/// each following element. Pulls are serial (one consumer per stream), which is what makes the
/// unchecked sendability sound; errors are mapped to ``DriverError``.
final class PullCursor<Element>: @unchecked Sendable {
    private var start: (() async throws -> () async throws -> Element?)?
    private var produce: (() async throws -> Element?)?

    init(start: @escaping () async throws -> () async throws -> Element?) {
        self.start = start
    }

    func next() async throws -> Element? {
        do {
            if Task.isCancelled {
                produce = nil
                return nil
            }
            if let start {
                self.start = nil
                produce = try await start()
            }
            guard let produce else { return nil }
            guard let element = try await produce() else {
                self.produce = nil
                return nil
            }
            return element
        } catch let error as DriverError {
            produce = nil
            throw error
        } catch {
            produce = nil
            throw DriverError(.failed, "Reading the tar repository failed: \(error).")
        }
    }
}
