/// `api.listen` as host and port: `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:8080`, `localhost:8080`.
public enum ListenAddress {
    public static func parse(_ text: String) throws(APIError) -> (host: String, port: Int) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw invalid(text) }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw invalid(text)
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { throw invalid(text) }
        return (String(host), port)
    }

    private static func invalid(_ text: String) -> APIError {
        .invalid("api.listen \"\(text)\" is not host:port (e.g. 127.0.0.1:8080).")
    }
}
