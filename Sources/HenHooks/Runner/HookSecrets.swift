/// The secret values of one hook: its environment values, its header values and the userinfo of its URL.
/// Values shorter than 3 characters are not treated as secrets: replacing every "1" in an output
/// would garble it and such a value protects nothing.
struct HookSecrets: Sendable {
    let values: [String]

    init(_ candidates: [String]) {
        values = Array(Set(candidates.filter { $0.count >= 3 })).sorted { $0.count > $1.count }
    }

    init(command: CommandHook) {
        self.init(command.environment.values.map(\.value))
    }

    init(http: HTTPHook, expandedHeaderValues: [String] = [], expandedURL: String? = nil) {
        var candidates = http.headers.values.map(\.value) + expandedHeaderValues + http.urlSecrets.map(\.value)
        for url in [http.url, expandedURL].compactMap({ $0 }) {
            if let userinfo = urlUserinfo(url) {
                candidates.append(userinfo)
                candidates += userinfo.split(separator: ":", maxSplits: 1).map(String.init)
            }
        }
        self.init(candidates)
    }

    func redact(_ text: String) -> String {
        var result = text
        for secret in values where result.contains(secret) {
            result = result.replacing(secret, with: "***")
        }
        return result
    }
}

extension HTTPHook {
    /// `text` with the values `${VAR}` put into this hook's URL as `***` (for showing the configuration).
    public func redactingURLSecrets(_ text: String) -> String {
        HookSecrets(urlSecrets.map(\.value)).redact(text)
    }
}
