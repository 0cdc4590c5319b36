import Foundation
import HenHooks
import HenProcess
import Synchronization

extension Configuration {
    /// Every secret this configuration knows, wherever it was written (directly, through `${VAR}`, or in a
    /// file it names): API tokens and password hashes, repository passwords and `password_file` contents,
    /// repository `env` values (`NAME_file` contents included), credentials and secret query values in
    /// locations, and every hook's environment, header values and URL credentials.
    public var secretValues: [String] {
        var values = api.auth.tokens.map(\.value.value) + api.auth.users.map(\.passwordHash.value)
        for repository in repositories.values {
            if let password = repository.password { values.append(password.value) }
            if let file = repository.passwordFile, let content = try? String(contentsOfFile: file, encoding: .utf8) {
                // restic reads the first line; the whole file is what a hook could print.
                values.append(content)
                values += content.split(whereSeparator: \.isNewline).map(String.init)
            }
            values += repository.environment.values.map(\.value)
            values += LocationRedaction.secrets(in: repository.location)
            values += repository.check.hooks.all.flatMap(\.secretValues)
        }
        for backup in backups {
            values += backup.hooks.all.flatMap(\.secretValues)
            values += backup.prune.hooks.all.flatMap(\.secretValues)
        }
        return values
    }

    /// A redactor of ``secretValues``.
    public var redactor: SecretRedactor { SecretRedactor(secretValues) }
}

extension Configuration.Backup.Hooks {
    /// The hooks of every phase.
    var all: [HookDefinition] { before + after + failure + finally }
}

/// The redactor of the configuration in force, shared by everything that writes text out: the engine (job
/// records and the job store), the API (its answers and event streams) and the log handler (every line).
/// A reload replaces it at once (``Engine/reload(_:)``).
public final class ConfigurationSecrets: Sendable {
    private let state: Mutex<SecretRedactor>

    public init(_ configuration: Configuration?) {
        state = Mutex(configuration?.redactor ?? .none)
    }

    public func update(from configuration: Configuration) {
        let redactor = configuration.redactor
        state.withLock { $0 = redactor }
    }

    public var redactor: SecretRedactor { state.withLock { $0 } }

    public func redact(_ text: String) -> String {
        redactor.redact(text)
    }
}
