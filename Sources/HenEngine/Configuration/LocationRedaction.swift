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
}
