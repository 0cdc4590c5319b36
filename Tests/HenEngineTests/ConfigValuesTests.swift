import Foundation
import HenDrivers
import HenHooks
import HenProcess
import Testing
@testable import HenEngine

/// Units, retention, priorities, niceness, watch and hooks.
@Suite struct ConfigValuesTests {
    @Test(arguments: [("512", 512), ("50K", 51_200), ("5M", 5_242_880), ("1.5G", 1_610_612_736), ("2T", 2_199_023_255_552), ("5MiB", 5_242_880), ("64k", 65_536)])
    func sizes(text: String, bytes: Int) {
        #expect(ConfigurationUnits.bytes(text) == bytes)
    }

    @Test(arguments: ["", "K", "5X", "1.2.3M", "5Mbit", ".5M", "-5M", "5 M B"])
    func notSizes(text: String) {
        #expect(ConfigurationUnits.bytes(text) == nil)
    }

    @Test func rateRendering() {
        #expect(ConfigurationUnits.rate(5_242_880) == "5 MiB/s (41.9 Mbit/s)")
        #expect(ConfigurationUnits.rate(524_288) == "512 KiB/s (4.2 Mbit/s)")
        #expect(ConfigurationUnits.rate(1_610_612_736) == "1.5 GiB/s (12884.9 Mbit/s)")
        #expect(ConfigurationUnits.size(5_242_880) == "5M")
        #expect(ConfigurationUnits.size(1_572_864) == "1536K")
        #expect(ConfigurationUnits.size(1000) == "1000")
    }

    @Test func limitsAtEveryLevel() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load(minimalConfig(
            backupExtra: "\n    limits: { upload: 512K }\n    max_duration: 5m",
            repositoryExtra: "\n    limits: { upload: 10M, download: 1.5G }",
            top: "limits: { download: 1000 }\n"
        ))
        #expect(configuration.limits == TransferLimits(uploadBytesPerSecond: nil, downloadBytesPerSecond: 1000))
        #expect(configuration.repositories["main"]?.limits == TransferLimits(uploadBytesPerSecond: 10_485_760, downloadBytesPerSecond: 1_610_612_736))
        #expect(configuration.backups[0].limits == TransferLimits(uploadBytesPerSecond: 524_288))
        // m is minutes, never months.
        #expect(configuration.backups[0].maxDuration == .seconds(300))

        // Prunes and checks have a max_duration of their own, shown in the rendered configuration.
        let operations = try directory.load(minimalConfig(
            backupExtra: "\n    retention: { keep_last: 3 }\n    prune: { schedules: [1d], max_duration: 3h }",
            repositoryExtra: "\n    check: { schedules: [1w], max_duration: 90m }"
        ))
        #expect(operations.backups[0].prune.maxDuration == .seconds(3 * 3600))
        #expect(operations.repositories["main"]?.check.maxDuration == .seconds(90 * 60))
        let rendered = operations.redactedYAML()
        #expect(rendered.contains("max_duration: 3h") && rendered.contains("max_duration: 1h30m"), "\(rendered)")
        #expect(directory.issues(minimalConfig(top: "limits: { upload: 5Mbit, download: 0 }\n")) == [
            "config.yml:1:19: limits.upload: \"5Mbit\" is not a rate (bytes per second: 512K, 5M, 1.5G with K = 1024 bytes, or a plain number of bytes)",
            "config.yml:1:36: limits.download: a limit of 0 would stop every transfer; leave the key out for no limit",
        ])
    }

    @Test func retentionConversion() throws {
        let directory = try ConfigTempDirectory()
        func within(_ text: String) throws -> KeepWithin? {
            try directory.load(minimalConfig(backupExtra: "\n    retention: { keep_within: \(text) }")).backups[0].retention?.keepWithin
        }
        #expect(try within("2w") == KeepWithin(days: 14))
        #expect(try within("3d") == KeepWithin(days: 3))
        #expect(try within("36h") == KeepWithin(hours: 36))
        #expect(try within("1d12h") == KeepWithin(days: 1, hours: 12))
        #expect(try within("120m") == KeepWithin(hours: 2))
        #expect(try within("7200s") == KeepWithin(hours: 2))
        #expect(try within("1w2d") == KeepWithin(days: 9))
        // The trap: restic reads 90m as 90 months; ours is 90 minutes, which restic cannot express.
        #expect(directory.issues(minimalConfig(backupExtra: "\n    retention: { keep_within: 90m }")) == [
            "config.yml:10:31: backups.docs.retention.keep_within: keep_within 90m cannot be expressed: restic counts whole hours",
        ])
        #expect(KeepWithin(days: 14).resticNotation == "14d")
    }

    @Test func retentionFields() throws {
        let directory = try ConfigTempDirectory()
        let policy = try directory.load(minimalConfig(backupExtra: """

                retention:
                  keep_last: 3
                  keep_hourly: 24
                  keep_daily: 7
                  keep_weekly: 4
                  keep_monthly: 12
                  keep_yearly: 2
                  keep_tags: [important, keep]
            """)).backups[0].retention
        #expect(policy == RetentionPolicy(keepLast: 3, keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2, keepTags: ["important", "keep"]))
        #expect(directory.issues(minimalConfig(backupExtra: "\n    retention: {}")) == [
            "config.yml:10:16: backups.docs.retention: the retention policy keeps nothing; set at least one keep_* key",
        ])
        #expect(directory.issues(minimalConfig(backupExtra: "\n    retention: { keep_daily: 0, keep_dayly: 3 }")) == [
            "config.yml:10:30: backups.docs.retention.keep_daily: 0 is too small (at least 1)",
            "config.yml:10:33: backups.docs.retention.keep_dayly: unknown key \"keep_dayly\"; did you mean \"keep_daily\"?",
        ])
    }

    @Test func pruneNeedsRetention() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues(minimalConfig(backupExtra: "\n    prune: { schedules: [1d] }")) == [
            "config.yml:10:12: backups.docs.prune: prune needs a retention policy in this backup (retention: { keep_daily: 7, ... })",
        ])
        let configuration = try directory.load(minimalConfig(backupExtra: "\n    retention: { keep_last: 1 }\n    prune: { schedules: [1d, \"@weekly\"] }"))
        #expect(configuration.backups[0].prune.schedules.count == 2)
    }

    @Test(arguments: [
        ("immediate", JobPriority.immediate), ("next", .next), ("superior", .superior), ("normal", .normal),
        ("inferior", .inferior), ("on-idle", .onIdle), ("5", .level(5)), ("-20", .level(-20)),
    ])
    func priorities(text: String, priority: JobPriority) throws {
        let directory = try ConfigTempDirectory()
        #expect(try directory.load(minimalConfig(backupExtra: "\n    priority: \"\(text)\"")).backups[0].priority == priority)
    }

    @Test func niceness() throws {
        let directory = try ConfigTempDirectory()
        func nice(_ text: String) throws -> Niceness {
            try directory.load(minimalConfig(backupExtra: "\n    nice: \(text)")).backups[0].nice
        }
        #expect(try nice("{ cpu: 19, io: idle }") == Niceness(cpu: 19, io: .idle))
        #expect(try nice("{ io: best-effort }") == Niceness(io: .bestEffort(level: nil)))
        #expect(try nice("{ io: \"best-effort:7\" }") == Niceness(io: .bestEffort(level: 7)))
        #expect(try nice("{ io: \"realtime:0\" }") == Niceness(io: .realtime(level: 0)))
        #expect(directory.issues(minimalConfig(backupExtra: "\n    nice: { cpu: 20, io: \"best-effort:8\" }")) == [
            "config.yml:10:18: backups.docs.nice.cpu: 20 is out of range 0-19",
            "config.yml:10:26: backups.docs.nice.io: \"best-effort:8\" is not an IO class (idle, best-effort, best-effort:0-7, realtime, realtime:0-7)",
        ])
    }

    @Test func watch() throws {
        let directory = try ConfigTempDirectory()
        func watch(_ text: String) throws -> Configuration.Backup.Watch? {
            try directory.load(minimalConfig(backupExtra: "\n    watch: \(text)")).backups[0].watch
        }
        #expect(try watch("true") == .init(latency: .seconds(30), maxWait: .seconds(600)))
        #expect(try watch("false") == nil)
        #expect(try watch("{ latency: 5s }") == .init(latency: .seconds(5), maxWait: .seconds(600)))
        #expect(try watch("{ latency: 1m, max_wait: 1h }") == .init(latency: .seconds(60), maxWait: .seconds(3600)))
        #expect(directory.issues(minimalConfig(backupExtra: "\n    watch: { latency: 5m, max_wait: 1m }")) == [
            "config.yml:10:37: backups.docs.watch.max_wait: max_wait must not be shorter than latency",
        ])
    }

    @Test func hooks() throws {
        let directory = try ConfigTempDirectory()
        let hooks = try directory.load(minimalConfig(backupExtra: """

                hooks:
                  before:
                    - command: [/usr/bin/pg_dump, --file, "${OUT:-/tmp/db.sql}"]
                      cwd: /var/tmp
                      timeout: 10m
                      on_failure: break
                    - shell: "echo hi > /tmp/x"
                      env: { A: b }
                  after:
                    - http:
                        url: https://hooks.example.com/done
                        method: put
                        headers: { X-Token: abc }
                        body: { text: "done \\"now\\"", count: 3, ok: true, ratio: 0.5, none: ~, quoted: "42", list: [1, two] }
                        timeout: 5s
                        retries: 2
                        expect_status: 204
                        insecure: true
                      on_failure: ignore
                  failure:
                    - http: { url: "http://127.0.0.1:9/x", body: "plain text", expect_status: [200, 202] }
                  finally:
                    - command: [true]
            """)).backups[0].hooks
        #expect(hooks.before.count == 2 && hooks.after.count == 1 && hooks.failure.count == 1 && hooks.finally.count == 1)
        #expect(hooks.before[0] == HookDefinition(action: .command(CommandHook(invocation: .argv(["/usr/bin/pg_dump", "--file", "/tmp/db.sql"]), workingDirectory: "/var/tmp", timeout: 600)), onFailure: .break))
        #expect(hooks.before[1] == HookDefinition(action: .command(CommandHook(invocation: .shell("echo hi > /tmp/x"), environment: ["A": Secret("b")]))))
        #expect(hooks.after[0] == HookDefinition(
            action: .http(HTTPHook(
                url: "https://hooks.example.com/done", method: "PUT", headers: ["X-Token": Secret("abc")],
                body: .json(#"{"text":"done \"now\"","count":3,"ok":true,"ratio":0.5,"none":null,"quoted":"42","list":[1,"two"]}"#),
                timeout: 5, retries: 2, expectStatus: [204], insecure: true
            )),
            onFailure: .ignore
        ))
        #expect(hooks.failure[0] == HookDefinition(action: .http(HTTPHook(url: "http://127.0.0.1:9/x", body: .text("plain text"), expectStatus: [200, 202]))))
        #expect(hooks.finally[0].onFailure == .continue)
    }

    @Test func hookErrors() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues(minimalConfig(backupExtra: """

                hooks:
                  before:
                    - { command: [a], shell: b }
                    - { cwd: /tmp }
                    - { http: { url: "https://h/" }, timeout: 5s }
                    - { http: { method: GET } }
                    - { command: [a], on_failure: stop }
                  during: []
            """)) == [
            "config.yml:12:11: backups.docs.hooks.before[0]: a hook has exactly one of command, shell or http, not command and shell",
            "config.yml:13:11: backups.docs.hooks.before[1]: a hook needs one of command, shell or http",
            "config.yml:14:51: backups.docs.hooks.before[2].timeout: timeout applies to command and shell hooks; an http hook takes timeout inside http:",
            "config.yml:15:19: backups.docs.hooks.before[3].http: an http hook needs a url",
            "config.yml:16:39: backups.docs.hooks.before[4].on_failure: \"stop\" is not one of ignore, continue, break",
            "config.yml:17:7: backups.docs.hooks.during: unknown key \"during\" (known: before, after, failure, finally, alarm)",
        ])
    }

    @Test func alarmAndDrillKeys() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues(minimalConfig(backupExtra: """

                alarm: { removed_over: 130% }
                drill: { sample: lots, max_bytes: big }
            """)) == [
            "config.yml:10:28: backups.docs.alarm.removed_over: \"130%\" is not a percentage above 0% and below 100%",
            "config.yml:11:22: backups.docs.drill.sample: \"lots\" is neither a number of files (200) nor a percentage of them (10%)",
            "config.yml:11:39: backups.docs.drill.max_bytes: \"big\" is not a size (500M, 2G)",
        ])
        #expect(directory.issues(minimalConfig(backupExtra: """

                alarm: { protect: true }
            """)).first?.hasSuffix("backups.docs.alarm: an alarm needs removed_over: a percentage of the files (30%) or a number of files (500)") == true)
        // A prune's hooks have no alarm phase.
        #expect(directory.issues(minimalConfig(backupExtra: """

                retention: { keep_last: 1 }
                prune: { hooks: { alarm: [] } }
            """)).first?.contains("unknown key \"alarm\" (known: before, after, failure, finally)") == true)
    }
}
