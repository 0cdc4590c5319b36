import Foundation
import HenDrivers
import HenProcess
import Testing
@testable import HenEngine

/// `api:`: the listen address and `auth` (tokens, users with bcrypt hashes, `none` on loopback only), and
/// what a reload changes.
@Suite struct ConfigAPITests {
    static let hash = "$2y$05$Mpi3jNQlA/v58dqQlT.dneW8T.r5xifmWEbo6Htz58Llkg1mk3uRO"

    @Test func tokensAndUsersAreRead() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(minimalConfig(top: """
            api:
              listen: 0.0.0.0:8420
              auth:
                tokens: [ "${HEN_API_TOKEN}", { name: ci, token: "ci-token-0123456789" } ]
                users:
                  - { name: alice, password_hash: "\(Self.hash)" }

            """), environment: ["HEN_API_TOKEN": "env-token-0123456789"])
        let auth = configuration.api.auth
        #expect(auth.tokens.map(\.name) == ["token-1", "ci"])
        #expect(auth.tokens.map(\.value.value) == ["env-token-0123456789", "ci-token-0123456789"])
        #expect(auth.users.map(\.name) == ["alice"])
        #expect(auth.isRequired)
        // Secrets never in the rendered configuration.
        let yaml = configuration.redactedYAML()
        #expect(!yaml.contains("env-token") && !yaml.contains("ci-token") && !yaml.contains(Self.hash))
        #expect(yaml.contains("name: ci"))
    }

    @Test func anAddressOtherMachinesReachNeedsAuth() throws {
        let directory = try ConfigTempDirectory()
        let open = directory.issues(minimalConfig(top: "api:\n  listen: 0.0.0.0:8420\n"))
        #expect(open.count == 1)
        #expect(open.first?.hasPrefix("config.yml:2:11: api.listen: 0.0.0.0:8420 is reachable from other machines") == true, "\(open)")
        let none = directory.issues(minimalConfig(top: "api:\n  listen: 192.168.1.5:8420\n  auth: none\n"))
        #expect(none.first?.contains("api.auth (tokens or users)") == true, "\(none)")
        #expect(directory.issues(minimalConfig(top: "api:\n  listen: 127.0.0.1:9000\n  auth: none\n")).isEmpty)
        #expect(directory.issues(minimalConfig(top: "api:\n  listen: \"[::1]:9000\"\n")).isEmpty)
        #expect(directory.issues(minimalConfig(top: "api:\n  listen: localhost:9000\n")).isEmpty)
    }

    @Test func allowedHostsAreNamesWithAnOptionalPortAndBadOnesArePositioned() throws {
        let directory = try ConfigTempDirectory()
        let good = try directory.load(minimalConfig(top: "api:\n  allowed_hosts: [Backup.Example.com, \"backup.example.com:8443\", 10.0.0.5, \"[fd00::1]:8420\"]\n"))
        #expect(good.api.allowedHosts == ["backup.example.com", "backup.example.com:8443", "10.0.0.5", "[fd00::1]:8420"])
        #expect(good.redactedYAML().contains("backup.example.com:8443"))
        let bad = directory.issues(minimalConfig(top: "api:\n  allowed_hosts:\n    - https://backup.example.com/\n    - \"*.example.com\"\n    - \"host:0\"\n"))
        #expect(bad.count == 3, "\(bad)")
        #expect(bad.first?.hasPrefix("config.yml:3:7: api.allowed_hosts[0]: \"https://backup.example.com/\" is not a host name") == true, "\(bad)")
        #expect(try directory.load(minimalConfig(top: "api:\n  allowed_hosts: backup.example.com\n")).api.allowedHosts == ["backup.example.com"])
    }

    @Test func badCredentialsAreErrorsWithTheirPlace() throws {
        let directory = try ConfigTempDirectory()
        let issues = directory.issues(minimalConfig(top: """
            api:
              auth:
                tokens: [ short ]
                users:
                  - { name: bob, password_hash: "plain-text-password" }
                  - { name: carol }
                  - { password_hash: "\(Self.hash)" }
                passwords: []

            """))
        #expect(issues.contains { $0.hasPrefix("config.yml:3:15: api.auth.tokens[0]: a token must be at least 16 characters") }, "\(issues)")
        #expect(issues.contains { $0.contains("api.auth.users[0].password_hash: the password hash of user \"bob\" is not a bcrypt hash") }, "\(issues)")
        #expect(issues.contains { $0.contains("api.auth.users[1]: user \"carol\" needs a password_hash") }, "\(issues)")
        #expect(issues.contains { $0.contains("api.auth.users[2]: a user needs a \"name\"") }, "\(issues)")
        #expect(issues.contains { $0.contains("api.auth.passwords: unknown key") }, "\(issues)")
        #expect(!issues.joined().contains("plain-text-password"))
        #expect(directory.issues(minimalConfig(top: "api:\n  auth: {}\n")).first?.contains("lists no token and no user") == true)
        #expect(directory.issues(minimalConfig(top: "api:\n  auth: yes\n")).first?.contains("is not an auth setting") == true)
    }

    @Test func aReloadAppliesChangesAndKeepsWhatNeedsARestart() async throws {
        let directory = try ConfigTempDirectory()
        let old = try directory.load(minimalConfig(top: "hostname: one\nmax_concurrent_jobs: 1\n"))
        let engine = Engine(configuration: old, registry: .standard, store: try JobStore(dataDirectory: directory.file("data")), logger: .init(label: "test"))
        let new = try directory.load(minimalConfig(backupExtra: "\n    excludes: ['*.tmp']", repositoryExtra: "2", top: "hostname: two\nmax_concurrent_jobs: 2\napi: { listen: 127.0.0.1:9999 }\n"))
        let result = try await engine.reload(new)
        #expect(result.changed == ["max_concurrent_jobs", "repositories.main", "backups.docs"])
        #expect(result.restartRequired == ["hostname", "api.listen"])
        #expect(engine.configuration.maxConcurrentJobs == 2)
        #expect(engine.configuration.hostname == "one")
        #expect(engine.configuration.api.listen == old.api.listen)
        #expect(engine.configuration.backup(named: "docs")?.excludes == ["*.tmp"])
        #expect(await engine.queue.maxConcurrentJobs == 2)
    }

    @Test func aReloadMayNotOpenAPublicListenerNorChangeLogging() async throws {
        let directory = try ConfigTempDirectory()
        let secured = try directory.load(minimalConfig(top: "api:\n  listen: 0.0.0.0:8420\n  auth: { tokens: [a-token-of-sixteen-plus] }\n"))
        let engine = Engine(configuration: secured, registry: .standard, store: try JobStore(dataDirectory: directory.file("data")), logger: .init(label: "test"))
        // The file moves to loopback without auth: fine for a new daemon, but this one still listens on 0.0.0.0.
        let open = try directory.load(minimalConfig(top: "api: { listen: 127.0.0.1:8420, auth: none }\n"))
        await #expect(throws: ConfigurationError.self) { try await engine.reload(open) }
        #expect(engine.configuration.api.auth.isRequired)
        let logging = try directory.load(minimalConfig(top: "log: { level: debug }\napi:\n  listen: 0.0.0.0:8420\n  auth: { tokens: [a-token-of-sixteen-plus] }\n"))
        let result = try await engine.reload(logging)
        #expect(result.restartRequired == ["log"])
        #expect(result.changed.isEmpty)
        #expect(engine.configuration.log.level == "info")
    }

    @Test func onlyAddressesInLoopbackRangesAreLoopback() {
        #expect(ConfigurationReader.isLoopback("127.0.0.1") && ConfigurationReader.isLoopback("127.1.2.3"))
        #expect(ConfigurationReader.isLoopback("localhost") && ConfigurationReader.isLoopback("::1"))
        #expect(!ConfigurationReader.isLoopback("127.example.com"))
        #expect(!ConfigurationReader.isLoopback("0.0.0.0") && !ConfigurationReader.isLoopback("10.0.0.1"))
    }
}
