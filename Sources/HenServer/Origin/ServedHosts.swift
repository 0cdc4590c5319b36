/// The host names this API answers to and the origins it takes state-changing requests from.
///
/// A web page the user opens can make the browser send requests to `127.0.0.1`: through DNS rebinding
/// (its own name resolving to 127.0.0.1, so the `Host` header carries that name) or as a cross-site request
/// (its `Origin` is another site, or another port of this one: `SameSite` cookies do not separate ports).
/// So the API answers only to the names it serves, and takes state-changing requests only from its own
/// origin (docs/api.md, "Host names and origins").
public struct ServedHosts: Sendable {
    /// Loopback names, with any port (a container's published port differs from `api.listen`'s).
    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "[::1]"]

    /// `api.listen`'s host, lowercased, IPv6 in brackets.
    let listenHost: String
    let listenPort: Int?
    /// `api.allowed_hosts`: `name` (any port) or `name:port`.
    let allowedHosts: [String]

    public init(listen: String, allowedHosts: [String]) {
        let split = Self.split(listen.lowercased())
        var host = split?.name ?? listen.lowercased()
        // `api.listen` may write an IPv6 address bare before its port (`::1:8420` is not valid, `[::1]:8420` is).
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
        listenHost = host
        listenPort = split?.port
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
    }

    /// Listening on every address: clients may name any of the machine's addresses.
    var listensEverywhere: Bool { listenHost == "0.0.0.0" || listenHost == "[::]" }

    /// Whether a request whose `Host` header is `host` is for this API.
    ///
    /// - A loopback name (`localhost`, `127.0.0.1`, `[::1]`) or `api.listen`'s host, with or without a port.
    /// - An `api.allowed_hosts` entry: its name with any port, or exactly its `name:port`.
    /// - When listening on `0.0.0.0` or `[::]`, any IP address literal: a page that rebinds a DNS name
    ///   sends that name, never an address, so an address cannot come from rebinding.
    public func serves(host: String) -> Bool {
        guard let (name, port) = Self.split(host.lowercased()) else { return false }
        if Self.loopbackNames.contains(name) || name == listenHost { return true }
        if listensEverywhere, Self.isAddressLiteral(name) { return true }
        return allowedHosts.contains { Self.entry($0, matches: name, port: port) }
    }

    /// Whether an `Origin` header names this API's own origin for a request that came with `host`: the
    /// origin's `host[:port]` is the request's `Host` (what a browser sends for a page this API served), or
    /// an `api.allowed_hosts` entry (a reverse proxy that rewrites `Host`). `null`, other schemes and
    /// anything with a path are not.
    public func isOwnOrigin(_ origin: String, host: String?) -> Bool {
        let lowered = origin.lowercased()
        let scheme: String
        if lowered.hasPrefix("http://") { scheme = "http" } else if lowered.hasPrefix("https://") { scheme = "https" } else { return false }
        var authority = String(lowered.dropFirst(scheme.count + 3))
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains("?"), !authority.contains("#") else { return false }
        let defaultPort = scheme == "http" ? ":80" : ":443"
        if authority.hasSuffix(defaultPort) { authority.removeLast(defaultPort.count) }
        guard let (name, port) = Self.split(authority) else { return false }
        if let host {
            var requested = host.lowercased()
            if requested.hasSuffix(defaultPort) { requested.removeLast(defaultPort.count) }
            if requested == authority { return true }
        }
        return allowedHosts.contains { Self.entry($0, matches: name, port: port) }
    }

    /// `name`, `name:port`, `[v6]`, `[v6]:port` → the name (lowercase as given) and the port; nil when the
    /// port is not a number from 1 to 65535 or the name is empty or holds characters no host name has.
    static func split(_ authority: String) -> (name: String, port: Int?)? {
        var name = Substring(authority)
        var portText: Substring?
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return nil }
            let rest = name[name.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
            name = name[...close]
        } else if let colon = name.lastIndex(of: ":") {
            portText = name[name.index(after: colon)...]
            name = name[..<colon]
        }
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._[]:".unicodeScalars.contains($0)) }) else { return nil }
        guard let portText else { return (String(name), nil) }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65_535).contains(port) else { return nil }
        return (String(name), port)
    }

    static func entry(_ entry: String, matches name: String, port: Int?) -> Bool {
        guard let (entryName, entryPort) = split(entry), entryName == name else { return false }
        return entryPort == nil || entryPort == port
    }

    /// `192.168.1.5` or `[fd00::5]`.
    static func isAddressLiteral(_ name: String) -> Bool {
        if name.hasPrefix("[") { return name.hasSuffix("]") && name.count > 2 }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && Int(part).map { (0...255).contains($0) } ?? false }
    }
}
