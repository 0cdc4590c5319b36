#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import GRDB

extension JobStore {
    /// Below this much free space in the store's file system a job is not admitted: its record, its log
    /// lines and restic's cache (`data_dir/cache`) would have nowhere to go.
    public static let minimumFreeBytes: UInt64 = 1 << 20

    /// Throws `.storeUnavailable` when a job could not be recorded now: the file system holding the store
    /// has less than ``minimumFreeBytes`` free, or a write to the store fails (a full disk, a read-only
    /// mount, an I/O error). A probe row is written, so this answers for the store itself, not a guess.
    public func checkWritable() async throws {
        let directory = (path as NSString).deletingLastPathComponent
        var info = statvfs()
        if statvfs(directory, &info) == 0 {
            let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
            if free < Self.minimumFreeBytes {
                throw EngineError(.storeUnavailable, "The job store cannot record jobs: the file system of \(directory) has \(free / 1024) KiB free (Hen needs at least \(Self.minimumFreeBytes >> 20) MiB).")
            }
        }
        do {
            try await writeProbe()
        } catch let error as EngineError {
            throw EngineError(.storeUnavailable, error.message)
        }
    }

    /// Whether an error means the store cannot be written now (rather than a request being wrong).
    public static func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? EngineError else { return false }
        return error.code == .storeUnavailable || error.code == .store
    }
}
