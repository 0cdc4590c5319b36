/// A URL as it may be shown in logs, errors and step names: scheme, host, port and path,
/// without userinfo (credentials), query or fragment (tokens often live there).
func displayURL(_ url: String) -> String {
    var rest = Substring(url)
    var scheme = ""
    if let range = rest.range(of: "://") {
        scheme = rest[..<range.lowerBound] + "://"
        rest = rest[range.upperBound...]
    }
    let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
    var authority = rest[..<authorityEnd]
    if let at = authority.lastIndex(of: "@") {
        authority = authority[authority.index(after: at)...]
    }
    let afterAuthority = rest[authorityEnd...]
    let pathEnd = afterAuthority.firstIndex { $0 == "?" || $0 == "#" } ?? afterAuthority.endIndex
    return scheme + authority + afterAuthority[..<pathEnd]
}

/// The userinfo part of a URL (`user:password`), if any: a secret to redact wherever it might echo.
func urlUserinfo(_ url: String) -> String? {
    guard let range = url.range(of: "://") else { return nil }
    let rest = url[range.upperBound...]
    let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    guard let at = authority.lastIndex(of: "@") else { return nil }
    let userinfo = String(authority[..<at])
    return userinfo.isEmpty ? nil : userinfo
}

extension Duration {
    /// Whole milliseconds, at least 1 so curl never reads 0 as "no limit".
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    /// "2 s", "1.5 s", "250 ms": for messages.
    var shortDescription: String {
        let ms = curlMilliseconds
        if ms < 1000 { return "\(ms) ms" }
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return "\(Double(ms) / 1000) s"
    }
}
