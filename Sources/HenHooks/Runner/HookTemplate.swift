import HenProcess

/// Substitutes `{{job.id}}`-style placeholders, escaping each value for where it lands.
/// Unknown placeholders are left as written (a body may legitimately contain `{{`);
/// `unknownPlaceholders(in:)` lets the configuration loader reject typos early.
public enum HookTemplate {
    public enum Escaping: Sendable {
        /// As is (text bodies).
        case none
        /// Percent-encoded: everything but RFC 3986 unreserved characters (URLs).
        case url
        /// As the inside of a JSON string (JSON bodies: placeholders go inside string values).
        case json
        /// Line breaks become spaces, so a value cannot start a new header.
        case header
    }

    public static func expand(_ template: String, context: HookContext, escaping: Escaping) -> String {
        guard template.contains("{{") else { return template }
        var result = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = String(afterOpen[..<close.lowerBound]).trimmed(of: " \t")
            if let value = context.placeholderValue(name) {
                result += escape(value, escaping)
            } else {
                result += rest[open.lowerBound..<close.upperBound]
            }
            rest = afterOpen[close.upperBound...]
        }
        result += rest
        return result
    }

    /// Names between `{{` and `}}` that are not placeholders.
    public static func unknownPlaceholders(in template: String) -> [String] {
        var unknown: [String] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = String(rest[open.upperBound..<close.lowerBound]).trimmed(of: " \t")
            if !HookContext.placeholderNames.contains(name) { unknown.append(name) }
            rest = rest[close.upperBound...]
        }
        return unknown
    }

    static func escape(_ value: String, _ escaping: Escaping) -> String {
        switch escaping {
        case .none:
            return value
        case .url:
            var out = ""
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                     UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let hex = String(byte, radix: 16, uppercase: true)
                    out += "%" + (hex.count == 1 ? "0" + hex : hex)
                }
            }
            return out
        case .json:
            return JSONText.escape(value)
        case .header:
            return String(String.UnicodeScalarView(value.unicodeScalars.map { $0 == "\r" || $0 == "\n" || $0 == "\0" ? " " : $0 }))
        }
    }
}
