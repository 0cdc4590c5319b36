/// Replaces every occurrence of a secret by `***`: the one redactor of Hen. Child processes' output, hook
/// output, log lines, job records, the job store and the API's answers all go through one built from the
/// secrets they know (``init(_:)``); ``merging(_:)`` adds a hook's or a driver's own.
///
/// - Values shorter than ``minimumLength`` are not treated as secrets: replacing every "1" would garble
///   the text, and such a value protects nothing.
/// - The longest secret is replaced first, so that a secret containing another is replaced whole.
/// - Each secret is also looked for as JSON writes it (`"` as `\"`, `/` as `\/`…), so that JSON text (an
///   API answer, a JSON log line) can be redacted after it was encoded.
public struct SecretRedactor: Sendable {
    public static let minimumLength = 3

    /// The secrets as given (at least ``minimumLength`` characters), longest first.
    public let secrets: [String]
    /// What is searched: the secrets and their JSON-escaped forms, longest first.
    private let patterns: [String]

    public init(_ secrets: some Sequence<String>) {
        let kept = Set(secrets.filter { $0.count >= Self.minimumLength })
        self.secrets = kept.sorted { $0.count > $1.count }
        var patterns = kept
        for secret in kept {
            patterns.insert(Self.jsonEscaped(secret, slashes: false))
            patterns.insert(Self.jsonEscaped(secret, slashes: true))
        }
        self.patterns = patterns.sorted { $0.count > $1.count }
    }

    public static let none = SecretRedactor([String]())

    public var isEmpty: Bool { secrets.isEmpty }

    /// This redactor's secrets and `other`'s.
    public func merging(_ other: SecretRedactor) -> SecretRedactor {
        other.isEmpty ? self : SecretRedactor(secrets + other.secrets)
    }

    public func redact(_ text: String) -> String {
        var result = text
        for pattern in patterns where result.contains(pattern) {
            result = result.replacing(pattern, with: "***")
        }
        return result
    }

    /// `secret` as it appears between the quotes of a JSON string.
    static func jsonEscaped(_ secret: String, slashes: Bool) -> String {
        JSONText.escape(secret, slashes: slashes)
    }
}
