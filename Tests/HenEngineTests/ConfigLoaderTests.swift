import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Testing
@testable import HenEngine

@Suite struct ConfigLoaderTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func exampleConfigLoads() throws {
        let directory = try ConfigTempDirectory()
        let example = try String(contentsOfFile: Self.repositoryRoot + "/config.example.yml", encoding: .utf8)
        try directory.write("config.yml", example)
        try directory.write(".hen/password", "correct horse battery staple\n")
        try directory.makeDirectory("demo-data")

        let configuration = try directory.loader().load(path: directory.file("config.yml"))
        #expect(configuration.hostname == "testhost")
        #expect(configuration.dataDirectory == directory.file(".hen"))
        #expect(configuration.mode == .normal)
        #expect(configuration.api.listen == "127.0.0.1:8420")
        let repository = try #require(configuration.repositories["local-disk"])
        #expect(repository.driver == "restic")
        #expect(repository.location == directory.file(".hen/repos/local-disk"))
        #expect(repository.passwordFile == directory.file(".hen/password"))
        #expect(repository.password == nil)
        #expect(repository.check.schedules == [.every(.seconds(604_800), text: "1w")])
        #expect(repository.check.readDataSubset == "5%")
        let demo = try #require(configuration.backup(named: "demo"))
        #expect(demo.paths == [directory.file("demo-data")])
        #expect(demo.excludes == ["*.tmp", ".cache"])
        #expect(demo.repositories == ["local-disk"])
        #expect(demo.schedules == [.every(.seconds(60), text: "1m")])
        #expect(demo.retention?.keepLast == 10)
        #expect(demo.retention?.keepWithin == KeepWithin(days: 2))
        #expect(demo.prune.schedules == [.every(.seconds(86_400), text: "1d")])
        #expect(configuration.warnings.isEmpty)
    }

    @Test func exampleWithoutDemoDataWarns() throws {
        let directory = try ConfigTempDirectory()
        try directory.write("config.yml", try String(contentsOfFile: Self.repositoryRoot + "/config.example.yml", encoding: .utf8))
        try directory.write(".hen/password", "pw")
        let configuration = try directory.loader().load(path: directory.file("config.yml"))
        #expect(configuration.warnings.map(\.message) == ["the path \(directory.file("demo-data")) does not exist now (the backup reports it when it runs)"])
        #expect(configuration.warnings.first?.keyPath == "backups.demo.paths[0]")
    }

    @Test func defaults() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(minimalConfig())
        #expect(configuration.hostname == "testhost")
        #expect(configuration.dataDirectory == "/var/lib/hen-backup")
        #expect(configuration.timeZone.secondsFromGMT() == 0)
        #expect(configuration.maxConcurrentJobs == 1)
        #expect(configuration.shutdownGrace == .seconds(30))
        #expect(configuration.statusInterval == .seconds(60))
        #expect(configuration.stallWarning == .seconds(600))
        #expect(configuration.jobHistory.keep == .seconds(90 * 86_400))
        #expect(configuration.jobHistory.maxJobs == 10_000)
        #expect(configuration.log.level == "info" && configuration.log.levels.isEmpty)
        #expect(configuration.executables.isEmpty)
        #expect(configuration.restore.allowedTargets.isEmpty)
        #expect(configuration.limits == TransferLimits())
        let repository = try #require(configuration.repositories["main"])
        #expect(repository.driver == "restic" && repository.autoInit)
        #expect(repository.password?.value == "pw")
        let backup = try #require(configuration.backups.first)
        #expect(backup.priority == .normal && backup.watch == nil && backup.maxDuration == nil && backup.retention == nil)
        #expect(ConfigurationLoader.machineHostname().isEmpty == false)
    }

    @Test func topLevelValues() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(minimalConfig(top: """
            hostname: laptop
            data_dir: state
            timezone: Europe/Paris
            mode: recovery
            api: { listen: "0.0.0.0:9000", auth: { tokens: [ "a-token-of-sixteen-plus" ] } }
            max_concurrent_jobs: 3
            shutdown_grace: 0s
            status_interval: 5m
            stall_warning: 1h30m
            job_history: { keep: 2w, max_jobs: 50 }
            log: { level: debug, levels: { driver: trace } }
            executables: { restic: /opt/restic, tar: gtar, rclone: bin/rclone }
            restore: { allowed_targets: [/srv/restore, restores] }

            """))
        #expect(configuration.hostname == "laptop")
        #expect(configuration.dataDirectory == directory.file("state"))
        #expect(configuration.timeZone.identifier == "Europe/Paris")
        #expect(configuration.mode == .recovery)
        #expect(configuration.api.listen == "0.0.0.0:9000")
        #expect(configuration.maxConcurrentJobs == 3)
        #expect(configuration.shutdownGrace == .zero)
        #expect(configuration.statusInterval == .seconds(300))
        #expect(configuration.stallWarning == .seconds(5400))
        #expect(configuration.jobHistory.keep == .seconds(1_209_600) && configuration.jobHistory.maxJobs == 50)
        #expect(configuration.log.level == "debug" && configuration.log.levels == ["driver": "trace"])
        #expect(configuration.executables == ["restic": "/opt/restic", "tar": "gtar", "rclone": directory.file("bin/rclone")])
        #expect(configuration.restore.allowedTargets == ["/srv/restore", directory.file("restores")])
    }

    @Test func unknownRepositoryNamesTheKnownOnes() throws {
        let directory = try ConfigTempDirectory()
        let yaml = """
            repositories:
              local-disk: { location: ./r, password: x }
              aws: { location: "s3:host/bucket", password: y }
            backups:
              pictures:
                paths: [./p]
                repositories:
                  - local-disk
                  - ovh
                schedules: [1h]
            """
        #expect(directory.issues(yaml) == [
            "config.yml:9:9: backups.pictures.repositories[1]: unknown repository \"ovh\" (known: local-disk, aws)",
        ])
        #expect(directory.issues(yaml.replacingOccurrences(of: "- ovh", with: "- local-dsk")) == [
            "config.yml:9:9: backups.pictures.repositories[1]: unknown repository \"local-dsk\" (known: local-disk, aws); did you mean \"local-disk\"?",
        ])
    }

    @Test func everyErrorIsReportedAtOnce() throws {
        let directory = try ConfigTempDirectory()
        let yaml = """
            hostnme: laptop
            max_concurrent_jobs: 0
            repositories:
              main:
                location: ./repo
                password: ${REPO_PASSWORD}
                drivr: restic
            backups:
              docs:
                paths: [./data]
                repositories: [main]
                schedules: [1h, "0 61 * * *", 5x]
                max_duration: 10
                priority: urgent
            """
        #expect(directory.issues(yaml) == [
            "config.yml:1:1: hostnme: unknown key \"hostnme\"; did you mean \"hostname\"?",
            "config.yml:2:22: max_concurrent_jobs: 0 is too small (at least 1)",
            "config.yml:6:15: repositories.main.password: environment variable REPO_PASSWORD is not set (write ${REPO_PASSWORD:-default} to give a default)",
            "config.yml:7:5: repositories.main.drivr: unknown key \"drivr\"; did you mean \"driver\"?",
            "config.yml:12:21: backups.docs.schedules[1]: \"0 61 * * *\": hour 61 is out of range 0-23",
            "config.yml:12:35: backups.docs.schedules[2]: \"5x\": not a duration (5s 5m 5h 5d 5w, or combined as 1h30m) nor a cron expression",
            "config.yml:13:19: backups.docs.max_duration: \"10\" is not a duration (a number and a unit: 30s, 5m for minutes, 2h, 1d, 1w; or combined as 1h30m)",
            "config.yml:14:15: backups.docs.priority: \"urgent\" is not a priority (immediate, next, superior, normal, inferior, on-idle, or a whole number)",
        ])
    }

    @Test func unknownKeyWithoutCloseMatchListsKnownKeys() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues(minimalConfig(backupExtra: "\n    nice: { cpu: 5, zebra: 1 }")) == [
            "config.yml:10:21: backups.docs.nice.zebra: unknown key \"zebra\" (known: cpu, io)",
        ])
    }

    @Test func yamlSyntaxErrorsHaveAPosition() throws {
        let directory = try ConfigTempDirectory()
        let issues = directory.issues("backups:\n  docs:\n    paths: [./a, ./b\n    schedules: [1h]\n")
        #expect(issues.count == 1)
        let issue = try #require(issues.first)
        #expect(issue.hasPrefix("config.yml:4:"))
        #expect(issue.contains("YAML syntax error"))
        #expect(directory.issues("backups:\n  docs: {}\n  docs: {}\n") == ["config.yml:2:3: the key \"docs\" appears twice in one mapping"])
        #expect(directory.issues("") == ["config.yml:1:1: the configuration is empty (it needs at least one backup)"])
        #expect(directory.issues("hostname: x\n") == ["config.yml:1:1: backups: no backups: the file needs a \"backups:\" mapping with at least one backup"])
    }

    @Test func missingFileIsAnIssue() throws {
        let directory = try ConfigTempDirectory()
        #expect(throws: ConfigurationError.self) { try directory.loader().load(path: directory.file("nope.yml")) }
    }

    @Test func environmentSubstitution() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load("""
            hostname: ${HOST}-${SUFFIX:-box}
            data_dir: ${EMPTY:-/var/hen}
            repositories:
              main: { location: "${BASE}/repo", password: "pa$$word$x" }
            backups:
              docs: { paths: [./data], repositories: [main], schedules: [1h] }
            """, environment: ["HOST": "nas", "BASE": "/srv", "EMPTY": ""])
        #expect(configuration.hostname == "nas-box")
        #expect(configuration.dataDirectory == "/var/hen")
        #expect(configuration.repositories["main"]?.location == "/srv/repo")
        #expect(configuration.repositories["main"]?.password?.value == "pa$word$x")
        #expect(directory.issues(minimalConfig(top: "hostname: \"${HOST\"\n")) == [
            "config.yml:1:11: hostname: \"${\" without a closing \"}\" (write $$ for a literal $)",
        ])
        #expect(directory.issues(minimalConfig(backupExtra: "\n    excludes: [\"${NOPE}\"]")) == [
            "config.yml:10:16: backups.docs.excludes[0]: environment variable NOPE is not set (write ${NOPE:-default} to give a default)",
        ])
    }

    @Test func relativePathsResolveAgainstTheConfigDirectory() throws {
        let directory = try ConfigTempDirectory()
        try directory.write("secrets/ca.pem", "pem")
        try directory.write("secrets/pw", "pw")
        let configuration = try directory.load("""
            data_dir: ./state/../state2
            repositories:
              main: { location: repos/main, password_file: secrets/pw }
              loc: { location: "local:repos/loc", password: x }
              remote: { location: "sftp:host:/srv/x", password: x }
            backups:
              docs:
                paths: [data, /abs/path]
                repositories: [main, loc, remote, { name: usb, driver: tar, location: usb }]
                hooks:
                  before:
                    - { shell: "true", cwd: work }
                    - http: { url: "https://h/x", ca_file: secrets/ca.pem }
            """)
        #expect(configuration.dataDirectory == directory.file("state2"))
        #expect(configuration.repositories["main"]?.location == directory.file("repos/main"))
        #expect(configuration.repositories["main"]?.passwordFile == directory.file("secrets/pw"))
        #expect(configuration.repositories["loc"]?.location == "local:" + directory.file("repos/loc"))
        #expect(configuration.repositories["remote"]?.location == "sftp:host:/srv/x")
        #expect(configuration.repositories["usb"]?.location == directory.file("usb"))
        #expect(configuration.backups[0].paths == [directory.file("data"), "/abs/path"])
        guard case .command(let command) = configuration.backups[0].hooks.before[0].action else { Issue.record("not a command"); return }
        #expect(command.workingDirectory == directory.file("work"))
        guard case .http(let http) = configuration.backups[0].hooks.before[1].action else { Issue.record("not http"); return }
        #expect(http.caFile == directory.file("secrets/ca.pem"))
    }

    @Test func configurationWarnings() throws {
        let directory = try ConfigTempDirectory()
        try directory.makeDirectory("data")
        let configuration = try directory.load("""
            backups:
              docs:
                paths: [./data, ./missing]
                repositories: [{ name: usb, driver: tar, location: /mnt/usb }]
            """)
        #expect(configuration.warnings.map(\.description) == [
            "config.yml:3:21: backups.docs.paths[1]: the path \(directory.file("missing")) does not exist now (the backup reports it when it runs)",
            "config.yml:4:20: backups.docs.repositories[0]: repository \"usb\" uses the tar driver: its archives are not encrypted",
            "config.yml:3:5: backups.docs: backup \"docs\" has neither schedules nor watch: it runs only on demand",
        ])
    }

    @Test func anchorsAndAliasesAreFollowed() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load("""
            repositories:
              main: { location: ./repo, password: pw }
            backups:
              docs:
                paths: [./docs]
                repositories: &targets [main]
                schedules: &nightly ["0 0 2 * * *"]
              mail:
                paths: [./mail]
                repositories: *targets
                schedules: *nightly
            """)
        #expect(configuration.backups.map(\.repositories) == [["main"], ["main"]])
        #expect(configuration.backups[1].schedules == configuration.backups[0].schedules)
    }
}
