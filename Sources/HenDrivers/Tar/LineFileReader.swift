import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file line by line in 64 KiB chunks, so a manifest is never loaded whole.
final class LineFileReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false

    /// Nil when the file does not exist.
    init?(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw POSIXFailure(operation: "open", path: path, errno: errno)
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The next line without its newline; nil at the end of the file.
    func nextLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer[position...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[position..<newline])
                position = newline + 1
                return line
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                let line = Array(buffer[position...])
                position = buffer.count
                return line
            }
            if position > 0 {
                buffer.removeFirst(position)
                position = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXFailure(operation: "read", path: nil, errno: errno)
            }
            if count == 0 {
                atEnd = true
            } else {
                buffer.append(contentsOf: chunk[0..<count])
            }
        }
    }
}

/// A failed system call, with the path it concerned.
struct POSIXFailure: Error, CustomStringConvertible {
    let operation: String
    let path: String?
    let errno: Int32

    var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "\(operation) \(path): \(reason)" }
        return "\(operation): \(reason)"
    }
}
