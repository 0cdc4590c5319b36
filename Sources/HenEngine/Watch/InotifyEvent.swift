/// One `struct inotify_event` read from the kernel: `wd`, `mask`, `cookie`, `len`, then `len` bytes of
/// NUL-padded name.
struct InotifyEvent: Sendable, Hashable {
    var watch: Int32
    var mask: UInt32
    var cookie: UInt32
    /// The entry's name inside the watched directory; empty for events on the directory itself.
    var name: String

    static let headerSize = 16

    /// Decodes the events in the first `count` bytes of `buffer` (the kernel writes whole events only).
    static func decode(_ buffer: UnsafeRawBufferPointer, count: Int, _ body: (InotifyEvent) throws(WatchDegradation) -> Void) throws(WatchDegradation) {
        var offset = 0
        while offset + headerSize <= count {
            let watch = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let start = offset + headerSize
            let end = min(start + length, count)
            var nameEnd = start
            while nameEnd < end, buffer[nameEnd] != 0 { nameEnd += 1 }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<nameEnd]), as: UTF8.self)
            try body(InotifyEvent(watch: watch, mask: mask, cookie: cookie, name: name))
            offset = start + length
        }
    }
}
