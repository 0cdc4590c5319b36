import Foundation

/// Hides credentials written into locations and URLs: `rest:https://user:secret@host/` →
/// `rest:https://user:***@host/`; query parameters that look like keys or tokens too.
public enum LocationRedaction {
    public static func redact(_ location: String) -> String {
        var text = location
        // userinfo: "://user:password@" → "://user:***@"
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                if let colon = userinfo.firstIndex(of: ":") {
                    text.replaceSubrange(text.index(after: colon)..<at, with: "***")
                }
            }
        }
        // Query parameters carrying secrets.
        if let question = text.firstIndex(of: "?") {
            let secretNames = ["password", "pass", "secret", "token", "key", "signature", "sig", "auth", "access_token", "api_key", "apikey"]
            let query = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { return String(pair) }
                let name = parts[0].lowercased()
                return secretNames.contains(where: { name.contains($0) }) ? "\(parts[0])=***" : String(pair)
            }
            text = String(text[...question]) + query.joined(separator: "&")
        }
        return text
    }

    /// The secret values ``redact(_:)`` hides in `location`: the password of its userinfo, and the values of
    /// query parameters that look like keys or tokens.
    public static func secrets(in location: String) -> [String] {
        var secrets: [String] = []
        let redacted = redact(location)
        guard redacted != location else { return [] }
        if let scheme = location.range(of: "://") {
            let rest = location[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                let password = String(authority[authority.index(after: colon)..<at])
                secrets.append(password)
                if let decoded = password.removingPercentEncoding, decoded != password { secrets.append(decoded) }
            }
        }
        if let question = location.firstIndex(of: "?"), let redactedQuestion = redacted.firstIndex(of: "?") {
            let original = location[location.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
            let hidden = redacted[redacted.index(after: redactedQuestion)...].split(separator: "&", omittingEmptySubsequences: false)
            for (pair, shown) in zip(original, hidden) where pair != shown {
                if let value = pair.split(separator: "=", maxSplits: 1).dropFirst().first { secrets.append(String(value)) }
            }
        }
        return secrets
    }
}
