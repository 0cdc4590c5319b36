import HenProcess

/// The secret values of one hook: its environment values, its header values and the userinfo of its URL,
/// redacted by the one ``SecretRedactor`` (its rule for short values and the order).
struct HookSecrets: Sendable {
    let redactor: SecretRedactor
    var values: [String] { redactor.secrets }

    init(_ candidates: [String]) {
        redactor = SecretRedactor(candidates)
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
        redactor.redact(text)
    }
}

extension HTTPHook {
    /// `text` with the values `${VAR}` put into this hook's URL as `***` (for showing the configuration).
    public func redactingURLSecrets(_ text: String) -> String {
        HookSecrets(urlSecrets.map(\.value)).redact(text)
    }
}

extension HookDefinition {
    /// Every secret this hook carries (environment values, header values, credentials and `${VAR}` values
    /// in its URL), for the configuration's redactor.
    public var secretValues: [String] {
        switch action {
        case .command(let command): HookSecrets(command: command).values
        case .http(let http): HookSecrets(http: http).values
        }
    }
}
