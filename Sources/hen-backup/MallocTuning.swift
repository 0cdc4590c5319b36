#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator for a daemon that streams downloads in 1 MiB pieces (a read buffer, the stream's
/// chunk, NIO's buffer for each): by default blocks that large are mapped and unmapped, or the heap grows
/// and is trimmed back, for each one, so the kernel maps and zeroes fresh pages for every MiB. With blocks
/// up to 4 MiB taken from the heap and up to 4 MiB of free heap kept, a 1 GiB download cost the daemon
/// 1.5 s of CPU instead of 2.3 s, for about 4 MiB more resident memory after it (BENCHMARKS.md).
/// A `GLIBC_TUNABLES` that sets any `glibc.malloc.` value is the user's choice: then nothing is changed.
enum MallocTuning {
    /// glibc's `<malloc.h>` values, which Swift's Glibc module does not import.
    private static let trimThreshold: Int32 = -1
    private static let mmapThreshold: Int32 = -3

    static func apply(environment: [String: String]) {
        #if canImport(Glibc)
        if environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.") == true { return }
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        _ = mallopt(mmapThreshold, 4 << 20)
        _ = mallopt(trimThreshold, 4 << 20)
        #endif
    }
}
