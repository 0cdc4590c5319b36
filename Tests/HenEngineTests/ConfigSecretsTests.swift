import Foundation
import HenHooks
import HenProcess
import Testing
@testable import HenEngine

@Suite struct ConfigSecretsTests {
    @Test func passwordRules() throws {
        let directory = try ConfigTempDirectory()
        try directory.write("pw", "x")
        #expect(directory.issues("""
            repositories:
              both: { location: ./a, password: x, password_file: ./pw }
              none: { location: ./b }
              gone: { location: ./c, password_file: ./missing-password }
              plain: { location: ./d, driver: tar, password: x }
              three: { location: ./e, password_file: ./pw, password_command: "pass show x" }
              blank: { location: ./f, password_command: " " }
              plaincmd: { location: ./g, driver: tar, password_command: "pass show x" }
            backups:
              docs: { paths: [./data], repositories: [both, none, gone, plain, three, blank, plaincmd], schedules: [1h] }
            """) == [
            "config.yml:2:54: repositories.both.password_file: give one of password, password_file or password_command, not password and password_file",
            "config.yml:3:9: repositories.none: a restic repository needs a password, a password_file or a password_command",
            "config.yml:4:41: repositories.gone.password_file: the file \(directory.file("missing-password")) does not exist",
            "config.yml:5:50: repositories.plain.password: the tar driver does not encrypt, so a password would be ignored; remove it or use restic",
            "config.yml:6:66: repositories.three.password_command: give one of password, password_file or password_command, not password_file and password_command",
            "config.yml:7:45: repositories.blank.password_command: the password command is empty",
            "config.yml:8:61: repositories.plaincmd.password_command: the tar driver does not encrypt, so a password would be ignored; remove it or use restic",
        ])
    }

    /// `password_command` reaches the driver as written, and the summary and rendering name it without
    /// running it (Hen never sees its password).
    @Test func passwordCommandIsKeptAsWritten() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load("""
            repositories:
              vault: { location: ./repo, password_command: "sh -c 'echo never-run >> ./ran'" }
            backups:
              docs: { paths: [./data], repositories: [vault], schedules: [1h] }
            """)
        let repository = try #require(configuration.repositories["vault"])
        #expect(repository.target.passwordCommand == "sh -c 'echo never-run >> ./ran'")
        #expect(repository.target.password == nil && repository.target.passwordFile == nil)
        #expect(configuration.redactedYAML().contains("password_command: sh -c 'echo never-run >> ./ran'"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("ran")))
    }

    @Test func fileSecretsAreReadAndTrimmed() throws {
        let directory = try ConfigTempDirectory()
        try directory.write("secrets/aws", "aws-secret-value\n")
        try directory.write("secrets/pg", "pg secret\r\n")
        let configuration = try directory.load(minimalConfig(
            backupExtra: """

                    hooks:
                      before:
                        - command: [pg_dump]
                          env: { PGPASSWORD_file: ./secrets/pg, PLAIN: "${TOKEN}" }
                """,
            repositoryExtra: """

                    env:
                      AWS_ACCESS_KEY_ID: AKIA123
                      AWS_SECRET_ACCESS_KEY_file: secrets/aws
                """
        ), environment: ["TOKEN": "tok"])
        let environment = try #require(configuration.repositories["main"]?.environment)
        #expect(environment["AWS_SECRET_ACCESS_KEY"]?.value == "aws-secret-value")
        #expect(environment["AWS_ACCESS_KEY_ID"]?.value == "AKIA123")
        #expect(environment.count == 2)
        guard case .command(let hook) = configuration.backups[0].hooks.before[0].action else { Issue.record("not a command"); return }
        #expect(hook.environment["PGPASSWORD"]?.value == "pg secret")
        #expect(hook.environment["PLAIN"]?.value == "tok")
    }

    /// `${VAR}` in a hook's URL (a Slack webhook, a healthchecks UUID) is a secret: never shown or logged.
    @Test func environmentValuesInAHookURLAreSecrets() async throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(minimalConfig(backupExtra: """

                hooks:
                  after:
                    - http: { url: "https://hooks.slack.example/services/${SLACK_PATH}?a=$${literal}&b=$$${OTHER}" }
            """), environment: ["SLACK_PATH": "T000/B000/XXXXSECRETXXXX", "OTHER": "other-secret"])
        guard case .http(let hook) = configuration.backups[0].hooks.after[0].action else { Issue.record("not http"); return }
        #expect(hook.url == "https://hooks.slack.example/services/T000/B000/XXXXSECRETXXXX?a=${literal}&b=$other-secret")
        #expect(hook.urlSecrets.map(\.value) == ["T000/B000/XXXXSECRETXXXX", "other-secret"])
        #expect(!configuration.redactedYAML().contains("XXXXSECRETXXXX"))
        #expect(!HookRunner.stepName(configuration.backups[0].hooks.after[0], index: 0, phase: .after).contains("XXXXSECRETXXXX"))
    }

    @Test func fileSecretErrors() throws {
        let directory = try ConfigTempDirectory()
        try directory.write("k", "v")
        #expect(directory.issues(minimalConfig(repositoryExtra: """

                env:
                  A_file: ./nope
                  B: x
                  B_file: ./k
                  1BAD: x
            """)) == [
            "config.yml:6:15: repositories.main.env.A_file: the file \(directory.file("nope")) does not exist",
            "config.yml:8:15: repositories.main.env.B_file: B is given both directly and as B_file",
            "config.yml:9:7: repositories.main.env.1BAD: \"1BAD\" is not an environment variable name",
        ])
    }

    /// A configuration full of secrets, each of which must stay out of every rendering.
    static let secrets = ["hunter2-repo-password", "aws-secret-from-file", "aws-key-from-env", "bearer-token-xyz", "hook-env-secret", "rest-url-password", "query-token-123"]

    func secretConfiguration(_ directory: ConfigTempDirectory, extraError: String = "") throws -> String {
        try directory.write("aws", "aws-secret-from-file\n")
        try directory.makeDirectory("data")
        return """
            repositories:
              main:
                location: ./repo
                password: hunter2-repo-password
                env: { AWS_SECRET_ACCESS_KEY_file: ./aws, AWS_ACCESS_KEY_ID: "${KEY}" }
              rest:
                location: "rest:https://hen:rest-url-password@backup.example.com:8000/x/"
                password: "${KEY}"
            backups:
              docs:
                paths: [./data]
                repositories: [main, rest]
                schedules: [1h, "0 30 2 * * *"]
                hooks:
                  after:
                    - http:
                        url: "https://hc.example.com/ping?token=query-token-123"
                        headers: { Authorization: "Bearer bearer-token-xyz" }
                    - shell: "echo done"
                      env: { SECRET: hook-env-secret }\(extraError)
            """
    }

    @Test func redactedYAMLHidesEverySecret() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(try secretConfiguration(directory), environment: ["KEY": "aws-key-from-env"])
        let yaml = configuration.redactedYAML()
        for secret in Self.secrets { #expect(!yaml.contains(secret), "\(secret) leaked into the redacted YAML") }
        #expect(yaml.contains("password: '***'") || yaml.contains("password: \"***\""))
        #expect(yaml.contains("rest:https://hen:***@backup.example.com:8000/x/"))
        #expect(yaml.contains("token=***"))
        #expect(yaml.contains("AWS_SECRET_ACCESS_KEY"))
        // The rendering is itself a valid configuration (secrets aside): it loads back.
        let reloaded = try directory.load(yaml.replacingOccurrences(of: "'***'", with: "x"))
        #expect(reloaded.backups.map(\.name) == ["docs"])
        #expect(reloaded.backups[0].schedules == configuration.backups[0].schedules)
    }

    @Test func summaryHidesEverySecret() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(try secretConfiguration(directory), environment: ["KEY": "aws-key-from-env"])
        let summary = ConfigurationSummary.render(configuration)
        for secret in Self.secrets { #expect(!summary.contains(secret), "\(secret) leaked into the summary") }
        #expect(summary.contains("rest:https://hen:***@backup.example.com:8000/x/"))
    }

    @Test func errorsHideEverySecret() throws {
        let directory = try ConfigTempDirectory()
        let yaml = try secretConfiguration(directory, extraError: """

                    - http: { url: "ftp://u:rest-url-password@host/" }
                      timeout: 5m
            """)
        let issues = directory.issues(yaml, environment: ["KEY": "aws-key-from-env"])
        #expect(issues.count == 2)
        for issue in issues {
            for secret in Self.secrets { #expect(!issue.contains(secret), "\(secret) leaked into \(issue)") }
        }
        #expect(issues.contains { $0.contains("\"ftp://u:***@host/\" is not an http:// or https:// URL") })
    }

    @Test func secretsDescribeAsStars() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(try secretConfiguration(directory), environment: ["KEY": "aws-key-from-env"])
        let dumped = "\(configuration.repositories["main"]!.environment) \(String(describing: configuration.repositories["main"]!.password))"
        for secret in Self.secrets { #expect(!dumped.contains(secret)) }
    }

    @Test func locationRedaction() {
        #expect(LocationRedaction.redact("rest:https://user:pw@host/") == "rest:https://user:***@host/")
        #expect(LocationRedaction.redact("rest:https://user@host/") == "rest:https://user@host/")
        #expect(LocationRedaction.redact("s3:s3.amazonaws.com/bucket") == "s3:s3.amazonaws.com/bucket")
        #expect(LocationRedaction.redact("https://h/p?a=1&api_key=zz") == "https://h/p?a=1&api_key=***")
    }
}
