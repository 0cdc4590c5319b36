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
