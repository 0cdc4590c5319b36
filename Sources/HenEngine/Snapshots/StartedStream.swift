/// A download whose first chunk has been read before it is answered: a failure before any byte (the
/// repository locked by a prune, the snapshot forgotten meanwhile, restic missing) is thrown to the caller,
/// which answers it with an error status, instead of cutting short a response whose `200` and headers
/// are already sent. A failure after the first byte can still only end the stream early.
final class StartedStream: @unchecked Sendable {
    // Read by one task at a time: `start` reads the first chunk, then the returned stream's consumer,
    // through AsyncThrowingStream's unfolding closure, which is never called twice at once.
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var first: [UInt8]?
    private let repository: String

    private init(iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator, first: [UInt8]?, repository: String) {
        self.iterator = iterator
        self.first = first
        self.repository = repository
    }

    static func start(_ source: AsyncThrowingStream<[UInt8], any Error>, repository: String) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        var iterator = source.makeAsyncIterator()
        let first: [UInt8]?
        do {
            first = try await iterator.next()
        } catch {
            throw SnapshotBrowser.engineError(error, repository: repository)
        }
        guard let first else { return AsyncThrowingStream { $0.finish() } }
        let started = StartedStream(iterator: iterator, first: first, repository: repository)
        return AsyncThrowingStream(unfolding: { try await started.next() })
    }

    private func next() async throws -> [UInt8]? {
        if let first {
            self.first = nil
            return first
        }
        do {
            return try await iterator.next()
        } catch {
            throw SnapshotBrowser.engineError(error, repository: repository)
        }
    }
}
