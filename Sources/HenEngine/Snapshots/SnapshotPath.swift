/// Paths inside a snapshot: absolute, `/`-separated, without `.`/`..` components or a trailing slash.
enum SnapshotPath {
    /// The normalized form of `path`, or nil when it is relative or tries to climb with `..`.
    static func normalize(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { return nil }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    /// The parent directory and the last component (`/a/b` → `/a`, `b`; `/a` → `/`, `a`).
    static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("/", path) }
        let name = String(path[path.index(after: slash)...])
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        return (parent, name)
    }

    static func join(_ parent: String, _ name: String) -> String {
        parent == "/" ? "/" + name : parent + "/" + name
    }
}
