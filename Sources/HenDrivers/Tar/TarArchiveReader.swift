import Foundation

/// Decompresses one snapshot archive through `gzip -dc` and parses it as it arrives.
final class ArchiveReader {
    private let driver: TarDriver
    private let snapshotID: String
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var parser = TarStreamParser()
    private var ended = false

    init(driver: TarDriver, snapshotID: String) {
        self.driver = driver
        self.snapshotID = snapshotID
        iterator = driver.tools.bytes(driver.tools.gzip, ["-dc", "--", driver.archivePath(snapshotID)]).makeAsyncIterator()
    }

    /// The next parsed events; nil once the decompressed stream has ended.
    func nextEvents() async throws -> [TarStreamParser.Event]? {
        while !ended {
            let chunk: [UInt8]?
            do {
                chunk = try await iterator.next()
            } catch let failure as TarTools.Failure {
                throw driver.failure(
                    .checkFailed,
                    "The archive of snapshot \(snapshotID.prefix(8)) in tar repository \(driver.repository.name) cannot be read: \(failure.message).",
                    detail: failure.stderrTail
                )
            }
            guard let chunk else {
                ended = true
                return nil
            }
            do {
                let events = try parser.feed(chunk)
                if !events.isEmpty { return events }
            } catch {
                throw driver.failure(
                    .checkFailed,
                    "The archive of snapshot \(snapshotID.prefix(8)) in tar repository \(driver.repository.name) is damaged: \(error.reason)."
                )
            }
        }
        return nil
    }
}
