#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

extension ListenAddress {
    /// Checks, before the daemon does any start-up work, that `api.listen` can be bound: binds a socket the
    /// way the server will (SO_REUSEADDR, as SwiftNIO sets it) and closes it again. Throws one sentence
    /// naming the address and what to do; a raw `bind(...)` errno reached users before.
    /// - Parameter configurationFile: named in the advice (where `api.listen` is set).
    public static func checkAvailable(_ listen: String, configurationFile: String) throws(APIError) {
        let (host, port) = try parse(listen)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw .invalid("api.listen \(listen) in \(configurationFile) names a host that does not resolve (\(String(cString: gai_strerror(resolved)))).")
        }
        defer { freeaddrinfo(list) }
        // The server binds the first address the name resolves to.
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            throw .invalid(bindFailure(listen, errno: errno, configurationFile: configurationFile))
        }
    }

    /// The sentence for an error the server met while binding (a race with another program after
    /// ``checkAvailable(_:configurationFile:)``), or nil when `error` is something else.
    public static func describeBindFailure(_ error: any Error, listen: String, configurationFile: String) -> String? {
        guard let error = error as? IOError, error.description.contains("bind") else { return nil }
        return bindFailure(listen, errno: error.errnoCode, configurationFile: configurationFile)
    }

    private static func bindFailure(_ listen: String, errno code: Int32, configurationFile: String) -> String {
        switch code {
        case EADDRINUSE:
            return "Cannot listen on \(listen): the address is already in use, by another program or another hen-backup daemon; stop it, or set api.listen in \(configurationFile) to a free address."
        case EADDRNOTAVAIL:
            return "Cannot listen on \(listen): that address is not one of this machine's; set api.listen in \(configurationFile) to one of its addresses (127.0.0.1:8420 for this machine only)."
        case EACCES:
            return "Cannot listen on \(listen): ports below 1024 need root or CAP_NET_BIND_SERVICE; set api.listen in \(configurationFile) to a port above 1023."
        default:
            return "Cannot listen on \(listen): \(String(cString: strerror(code))); check api.listen in \(configurationFile)."
        }
    }
}
