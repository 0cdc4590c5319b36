import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory removed when the test ends.
final class ConformanceScratch {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hen-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Restored trees may hold read-only directories; make them writable so removal succeeds.
        if let enumerator = FileManager.default.enumerator(atPath: url.path) {
            for case let relative as String in enumerator {
                let path = url.appendingPathComponent(relative).path
                var info = stat()
                if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { chmod(path, 0o755) }
            }
        }
        try? FileManager.default.removeItem(at: url)
    }
}
