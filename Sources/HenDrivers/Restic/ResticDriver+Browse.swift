import Foundation
import HenProcess

extension ResticDriver {
    public func snapshots(_ filter: SnapshotFilter) -> AsyncThrowingStream<Snapshot, any Error> {
        outputStream(of: Snapshot.self, operation: "snapshots", bufferSize: 16) { sink in
            var arguments = ["snapshots", "--json", "--host", context.hostname]
            // restic ANDs the tags of one --tag option; a tag containing a comma is left to the guard below.
            let tags = filter.tags.filter { !$0.contains(",") }
            if !tags.isEmpty { arguments += ["--tag", tags.joined(separator: ",")] }
            for path in filter.paths { arguments += ["--path", path] }
            // restic prints one JSON array on one line: split it as it arrives instead of waiting for it.
            var splitter = JSONArraySplitter()
            let decoder = ResticJSON.decoder()
            try await consumeOutput(arguments, operation: "snapshots", source: { ChildProcess.bytes($0, onStderrLine: debugLog) }) { chunk in
                let objects: [[UInt8]]
                do {
                    objects = try splitter.feed(chunk)
                } catch {
                    throw failure(.failed, "Repository \"\(repository.name)\": restic snapshots printed something that is not a JSON array.")
                }
                for object in objects {
                    let snapshot: Snapshot
                    do {
                        snapshot = try decoder.decode(ResticSnapshot.self, from: Data(object)).snapshot
                    } catch {
                        throw failure(.failed, "Repository \"\(repository.name)\": restic snapshots printed a snapshot Hen cannot read (\(error)).")
                    }
                    // restic filtered already; these guards keep other hosts out whatever restic does.
                    guard snapshot.host == context.hostname, filter.matches(snapshot) else { continue }
                    guard await sink.send(snapshot) else { return false }
                }
                return true
            }
            guard splitter.isComplete || !sink.isConsumerPresent else {
                throw failure(.failed, "Repository \"\(repository.name)\": restic snapshots stopped in the middle of its output.")
            }
        }
    }

    public func list(snapshot: String, path: String?) -> AsyncThrowingStream<Node, any Error> {
        // Nodes come a read at a time (a few hundred); the indexer takes them one by one. Room for a few
        // reads (about 1 MB of nodes) lets the next read be parsed while the indexer works on this one.
        outputStream(of: Node.self, operation: "ls", bufferSize: 2048) { sink in
            guard Self.isSnapshotReference(snapshot) else { throw snapshotNotFound(snapshot) }
            let below = try path.map(normalizedSnapshotPath)
            var arguments = ["ls", "--json", "--host", context.hostname, snapshot.lowercased()]
            // Without --recursive, restic lists only the direct children of a directory it is given.
            if let below, below != "/" { arguments += ["--recursive", below] }
            var sawSnapshot = false
            var sawNode = false
            let decoder = ResticJSON.decoder()
            // The nodes of one read go to the consumer together: one wake-up per read, not per node.
            var nodes: [Node] = []
            try await consumeOutput(arguments, operation: "ls", source: { ChildProcess.lineBatches($0, onStderrLine: debugLog) }) { lines in
                nodes.removeAll(keepingCapacity: true)
                for line in lines {
                    if !sawSnapshot {
                        // The first line describes the snapshot: this is where the host is checked.
                        guard let header = try? decoder.decode(ResticSnapshot.self, from: Data(line.utf8)),
                              header.hostname == context.hostname
                        else { throw snapshotNotFound(snapshot) }
                        sawSnapshot = true
                        continue
                    }
                    guard let node = ResticNodeLine.parse(line) ?? (try? decoder.decode(ResticNode.self, from: Data(line.utf8))),
                          node.structType ?? "node" == "node"
                    else { continue }
                    nodes.append(node.node)
                }
                guard !nodes.isEmpty else { return true }
                sawNode = true
                return await sink.send(contentsOf: nodes)
            }
            // restic 0.14 ignores an unknown id with exit code 0 and prints nothing.
            guard sawSnapshot else { throw snapshotNotFound(snapshot) }
            if let below, below != "/", !sawNode {
                throw failure(.pathNotFound, "Repository \"\(repository.name)\": snapshot \(snapshot.prefix(8)) has no path \(below).")
            }
        }
    }

    public func dump(snapshot: String, path: String) -> AsyncThrowingStream<[UInt8], any Error> {
        dump(snapshot: snapshot, path: path, verified: false)
    }

    public func dump(snapshot: String, path: String, verified: Bool) -> AsyncThrowingStream<[UInt8], any Error> {
        outputStream(of: [UInt8].self, operation: "dump", bufferSize: 4) { sink in
            let inside = try normalizedSnapshotPath(path)
            // A full id the caller verified is this host's needs no `restic snapshots` (a second repository open).
            let id = verified && Self.isFullID(snapshot) ? snapshot.lowercased() : try await resolveSnapshot(snapshot).id
            // --archive tar: restic 0.14 already writes tar for a directory; say so for later versions.
            try await consumeOutput(["dump", "--archive", "tar", id, inside], operation: "dump", source: { ChildProcess.bytes($0, onStderrLine: debugLog) }) { chunk in
                await sink.send(chunk)
            }
        }
    }

    /// One of this host's snapshots by full id, unique prefix, or `latest` (optionally among those
    /// carrying `tags`); `.snapshotNotFound` for anything else, including another host's snapshot.
    func resolveSnapshot(_ reference: String, tags: [String] = []) async throws -> Snapshot {
        guard Self.isSnapshotReference(reference) else { throw snapshotNotFound(reference) }
        let wanted = reference.lowercased()
        var matches: [Snapshot] = []
        for try await snapshot in snapshots(SnapshotFilter(tags: tags)) {
            if wanted == "latest" {
                if matches.first.map({ snapshot.time >= $0.time }) ?? true { matches = [snapshot] }
            } else if snapshot.id.hasPrefix(wanted) {
                matches.append(snapshot)
            }
        }
        // A cancelled caller's stream ends quietly: that is not "no such snapshot".
        if Task.isCancelled { throw cancelled("snapshots") }
        guard let first = matches.first else { throw snapshotNotFound(reference) }
        guard matches.count == 1 else {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": \(reference) matches \(matches.count) snapshots; give more of the id.")
        }
        return first
    }

    /// A whole snapshot id: 64 hexadecimal digits.
    static func isFullID(_ reference: String) -> Bool {
        reference.utf8.count == 64 && reference.allSatisfy(\.isHexDigit)
    }

    /// `latest`, or a (prefix of a) hexadecimal id: nothing restic could mistake for an option.
    static func isSnapshotReference(_ reference: String) -> Bool {
        let lower = reference.lowercased()
        return lower == "latest" || (lower.count >= 4 && lower.allSatisfy(\.isHexDigit))
    }

    /// An absolute, `/`-separated path inside a snapshot, without a trailing slash.
    func normalizedSnapshotPath(_ path: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": \(path) is not an absolute path inside the snapshot.")
        }
        var normalized = path
        while normalized.count > 1, normalized.hasSuffix("/") { normalized.removeLast() }
        return normalized
    }

    var debugLog: @Sendable (String) -> Void {
        let logger = context.logger
        let name = repository.name
        return { line in logger.debug("restic: \(line)", metadata: ["repository": "\(name)"]) }
    }

    /// A stream whose producer runs restic; a consumer that stops or is cancelled stops restic cleanly
    /// (SIGINT, drained in the background), and a cancelled consumer gets `.cancelled`.
    func outputStream<Element: Sendable>(
        of type: Element.Type,
        operation: String,
        bufferSize: Int,
        producer: @escaping @Sendable (StreamSink<Element>) async throws -> Void
    ) -> AsyncThrowingStream<Element, any Error> {
        let driver = self
        return BackpressuredStream.make(of: type, bufferSize: bufferSize, cancellationError: { driver.cancelled(operation) }, producer: producer)
    }

    /// Runs restic and hands its output to `handle` (which returns false to stop early). A failure is
    /// classified; a lock met before any output gets one `restic unlock` (stale locks only) and a retry.
    func consumeOutput<Chunk: Sendable>(
        _ arguments: [String],
        operation: String,
        source: (ChildProcessRequest) -> AsyncThrowingStream<Chunk, any Error>,
        handle: (Chunk) async throws -> Bool
    ) async throws {
        let version = try await version()
        var attempt = 1
        while true {
            var produced = false
            let request = processRequest(arguments, version: version)
            context.logger.debug("restic \(operation)", metadata: ["repository": "\(repository.name)", "arguments": "\(request.arguments)"])
            do {
                for try await chunk in source(request) {
                    produced = true
                    guard try await handle(chunk) else { return }
                }
                return
            } catch let exit as ChildProcessExit {
                let error = classify(exit.result, operation: operation, version: version)
                if error.code == .repositoryLocked, attempt == 1, !produced {
                    attempt += 1
                    try await removeStaleLocks(events: { _ in })
                    continue
                }
                throw error
            } catch let error as ChildProcessError {
                throw processFailure(error, operation: operation)
            }
        }
    }
}
