import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// What a child reads on stdin: nothing (`/dev/null`), or bytes given whole before it starts (a plugin's
/// JSON request, secrets included, which must never go on a command line).
///
/// The bytes go into a pipe when they fit in its buffer, so they never touch a disk and writing cannot
/// block; larger input goes into a temporary file (mode 0600) that is unlinked before the child starts.
enum ChildInput {
    /// A descriptor for the child's stdin, owned by the caller (Subprocess closes it after the spawn).
    static func open(_ bytes: [UInt8]?) throws(ChildProcessError) -> FileDescriptor {
        guard let bytes else {
            do { return try FileDescriptor.open("/dev/null", .readOnly) } catch {
                throw ChildProcessError(.spawnFailed, "Opening /dev/null for a child's input failed: \(error)", executable: "")
            }
        }
        if bytes.count < 60_000, let descriptor = try? viaPipe(bytes) { return descriptor }
        return try viaFile(bytes)
    }

    private static func viaPipe(_ bytes: [UInt8]) throws -> FileDescriptor {
        let (read, write) = try FileDescriptor.pipe()
        defer { try? write.close() }
        do {
            _ = try write.writeAll(bytes)
        } catch {
            try? read.close()
            throw error
        }
        return read
    }

    private static func viaFile(_ bytes: [UInt8]) throws(ChildProcessError) -> FileDescriptor {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(directory)/hen-input-XXXXXX".utf8CString)
        let raw = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard raw >= 0 else {
            throw ChildProcessError(.spawnFailed, "Creating a temporary file for a child's input in \(directory) failed (errno \(errno)).", executable: "")
        }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        unlink(path)
        let descriptor = FileDescriptor(rawValue: raw)
        do {
            _ = try descriptor.writeAll(bytes)
            _ = try descriptor.seek(offset: 0, from: .start)
        } catch {
            try? descriptor.close()
            throw ChildProcessError(.spawnFailed, "Writing a child's input to a temporary file failed: \(error)", executable: "")
        }
        return descriptor
    }
}
