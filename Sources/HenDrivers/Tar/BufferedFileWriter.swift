import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends bytes to a new file through a 1 MiB buffer; `finish` flushes and fsyncs so a rename that
/// follows publishes complete data.
final class BufferedFileWriter {
    let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private(set) var bytesWritten: UInt64 = 0

    init(creating path: String) throws(POSIXFailure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFailure(operation: "create", path: path, errno: errno) }
        self.path = path
        descriptor = fd
        buffer.reserveCapacity(1 << 20)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(POSIXFailure) {
        buffer.append(contentsOf: bytes)
        bytesWritten += UInt64(bytes.count)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func finish() throws(POSIXFailure) {
        try flush()
        if fsync(descriptor) != 0 { throw POSIXFailure(operation: "fsync", path: path, errno: errno) }
        close(descriptor)
        descriptor = -1
    }

    private func flush() throws(POSIXFailure) {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXFailure(operation: "write", path: path, errno: errno)
            }
            offset += count
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
