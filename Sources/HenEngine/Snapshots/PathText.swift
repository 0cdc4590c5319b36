/// The one rule for paths that come from a request (download and include paths inside a snapshot, restore
/// targets on disk): a NUL is refused. It would cut the path short wherever it reaches C (SQLite, a child
/// process's arguments, the file system), so that something else than what was asked for would be read or
/// written. No file name holds one. Tabs, newlines and other control characters are allowed: Linux file
/// names may contain them, and a backup may have saved such names.
enum PathText {
    /// The path's names as the kernel sees them: split at every "/" byte. String's own `split` and
    /// `hasPrefix` work on characters, and a "/" followed by a combining mark is one character that is not
    /// "/": `/allowed/../\u{301}x` would hide its "..", and the kernel would climb.
    static func components(_ path: String) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The path starts with a "/" byte.
    static func isAbsolute(_ path: String) -> Bool {
        path.utf8.first == UInt8(ascii: "/")
    }

    static func refuseNUL(_ path: String, _ what: String) throws {
        if path.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw EngineError(.invalidRequest, "\(what) \(path.debugDescription) contains a NUL character, which no file name holds.")
        }
    }
}
