/// Paths inside a snapshot: absolute, `/`-separated, without `.`/`..` components or a trailing slash.
enum SnapshotPath {
    /// The normalized form of `path`, or nil when it is relative or tries to climb with `..`.
    static func normalize(_ path: String) -> String? {
        guard PathText.isAbsolute(path) else { return nil }
        var components: [String] = []
        for component in PathText.components(path) {
            if component == "." { continue }
            if component == ".." { return nil }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    /// The parent directory and the last component (`/a/b` → `/a`, `b`; `/a` → `/`, `a`).
    static func split(_ path: String) -> (parent: String, name: String) {
        // At the last "/" byte (PathText.components says why not at the last "/" character).
        let bytes = path.utf8
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return ("/", path) }
        let name = String(decoding: bytes[bytes.index(after: slash)...], as: UTF8.self)
        let parent = slash == bytes.startIndex ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
        return (parent, name)
    }

    static func join(_ parent: String, _ name: String) -> String {
        parent == "/" ? "/" + name : parent + "/" + name
    }
}
