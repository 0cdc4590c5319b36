/// Replaces every occurrence of a secret by `***`.
struct SecretRedactor: Sendable {
    private let secrets: [String]

    init(_ secrets: [String]) {
        // Longest first, so that a secret containing another is replaced whole.
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "***")
        }
        return result
    }
}
