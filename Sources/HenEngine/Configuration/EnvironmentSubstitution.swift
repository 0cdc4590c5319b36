import Foundation

/// `${VAR}`, `${VAR:-default}` and `$$` in configuration values.
enum EnvironmentSubstitution {
    enum Failure: Error, Equatable {
        case unset(String)
        case unterminated
        case badName(String)
    }

    /// Replaces every `${VAR}` by its value, `${VAR:-default}` by the value or, when unset or empty, the
    /// default; `$$` is a literal `$`. Any other `$` stays as written (passwords may contain one).
    static func substitute(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        expand(text, environment: environment).map(\.output)
    }

    /// The values `${VAR}` references in `text` take from the environment (not their defaults): what a
    /// URL holds that came from a secret store.
    static func substitutedValues(_ text: String, environment: [String: String]) -> [String] {
        (try? expand(text, environment: environment).get())?.values ?? []
    }

    /// One scan for both: the substituted text, and the non-empty values taken from the environment.
    private static func expand(_ text: String, environment: [String: String]) -> Result<(output: String, values: [String]), Failure> {
        guard text.contains("$") else { return .success((text, [])) }
        var output = ""
        var values: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                output.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                output.append("$")
                index = text.index(after: next)
            } else if text[next] == "{" {
                let bodyStart = text.index(after: next)
                guard let close = text[bodyStart...].firstIndex(of: "}") else { return .failure(.unterminated) }
                let body = String(text[bodyStart..<close])
                let name: String
                var fallback: String?
                if let separator = body.range(of: ":-") {
                    name = String(body[..<separator.lowerBound])
                    fallback = String(body[separator.upperBound...])
                } else {
                    name = body
                }
                guard isValidName(name) else { return .failure(.badName(name)) }
                if let value = environment[name], !(fallback != nil && value.isEmpty) {
                    output += value
                    if !value.isEmpty { values.append(value) }
                } else if let fallback {
                    output += fallback
                } else {
                    return .failure(.unset(name))
                }
                index = text.index(after: close)
            } else {
                output.append(character)
                index = next
            }
        }
        return .success((output, values))
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
