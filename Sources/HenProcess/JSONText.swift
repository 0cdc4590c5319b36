/// JSON string escaping without a JSONEncoder: for log lines (one per event, so no encoder per line),
/// hook templates (`${VAR}` inside a JSON body) and hook bodies written in YAML. The one copy.
public enum JSONText {
    /// The text as a JSON string literal, quotes included: `"a\"b"`.
    public static func quote(_ string: String) -> String {
        "\"" + escape(string) + "\""
    }

    /// The text as it goes between a JSON string's quotes: `"`, `\` and control characters escaped, and
    /// `/` too with `slashes` (as some encoders write it: the redactor looks for both forms).
    public static func escape(_ string: String, slashes: Bool = false) -> String {
        var result = ""
        result.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "/" where slashes: result += "\\/"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
