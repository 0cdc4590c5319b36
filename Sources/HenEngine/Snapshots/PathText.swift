/// The one rule for paths that come from a request (download and include paths inside a snapshot, restore
/// targets on disk): a NUL is refused. It would cut the path short wherever it reaches C (SQLite, a child
/// process's arguments, the file system), so that something else than what was asked for would be read or
/// written. No file name holds one. Tabs, newlines and other control characters are allowed: Linux file
/// names may contain them, and a backup may have saved such names.
enum PathText {
    static func refuseNUL(_ path: String, _ what: String) throws {
        if path.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw EngineError(.invalidRequest, "\(what) \(path.debugDescription) contains a NUL character, which no file name holds.")
        }
    }
}
