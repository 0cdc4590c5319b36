import Foundation
import Testing
@testable import HenEngine
import HenDrivers

@Suite struct ConfigRepositoryTests {
    @Test func inlineRepositories() throws {
        let directory = try ConfigTempDirectory()
        let configuration = try directory.load("""
            repositories:
              shared: { location: ./shared, password: x }
            backups:
              docs:
                paths: [./docs]
                repositories:
                  - shared
                  - name: usb
                    driver: tar
                    location: /mnt/usb
                  - name: cloud
                    location: "s3:s3.amazonaws.com/bucket"
                    password: y
                    auto_init: false
                    check: { schedules: ["@monthly"], read_data_subset: 1/10 }
                schedules: [1h]
              mail:
                paths: [./mail]
                repositories: [shared]
                schedules: [1h]
            """)
        #expect(configuration.backups.map(\.repositories) == [["shared", "usb", "cloud"], ["shared"]])
        #expect(configuration.repositories.keys.sorted() == ["cloud", "shared", "usb"])
        #expect(configuration.repositories["shared"]?.definedInBackup == nil)
        #expect(configuration.repositories["usb"]?.definedInBackup == "docs")
        #expect(configuration.repositories["usb"]?.driver == "tar")
        #expect(configuration.repositories["cloud"]?.autoInit == false)
        #expect(configuration.repositories["cloud"]?.check.readDataSubset == "1/10")
        #expect(configuration.repositories["cloud"]?.location == "s3:s3.amazonaws.com/bucket")
    }

    @Test func nameClashes() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues("""
            repositories:
              shared: { location: ./shared, password: x }
            backups:
              docs:
                paths: [./docs]
                repositories:
                  - shared
                  - { name: shared, location: ./other, password: x }
                  - { name: usb, driver: tar, location: /mnt/usb }
                  - { name: usb, driver: tar, location: /mnt/usb2 }
                  - shared
              mail:
                paths: [./mail]
                repositories:
                  - { name: usb, driver: tar, location: /mnt/usb }
                  - { location: ./nameless, password: x }
                  - { name: "bad name", location: ./x, password: x }
                  - [nested]
            """) == [
            "config.yml:8:17: backups.docs.repositories[1].name: the inline repository \"shared\" has the name of a global repository; rename one of them",
            "config.yml:10:9: backups.docs.repositories[3]: repository \"usb\" appears twice in this backup",
            "config.yml:11:9: backups.docs.repositories[4]: repository \"shared\" appears twice in this backup",
            "config.yml:15:17: backups.mail.repositories[0].name: the inline repository \"usb\" is already defined in backup \"docs\"; define it once under repositories: to share it",
            "config.yml:16:9: backups.mail.repositories[1]: an inline repository needs a name (name: usb)",
            "config.yml:17:17: backups.mail.repositories[2].name: the repository name \"bad name\" may only contain letters, digits, \".\", \"_\" and \"-\"",
            "config.yml:18:9: backups.mail.repositories[3]: expected a repository name or an inline repository, found a list",
        ])
    }

    @Test func globalNamesAreChecked() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues("""
            repositories:
              "my repo": { location: ./a, password: x }
            backups:
              "a/b": { paths: [./x], repositories: [], schedules: [1h] }
            """) == [
            "config.yml:2:3: repositories.my repo: the repository name \"my repo\" may only contain letters, digits, \".\", \"_\" and \"-\"",
            "config.yml:4:3: backups.a/b: the backup name \"a/b\" may only contain letters, digits, \".\", \"_\" and \"-\"",
        ])
    }

    @Test func theTarDriverRefusesARemoteLocation() throws {
        let directory = try ConfigTempDirectory()
        // It used to become ./s3:s3.amazonaws.com/b/p, a local folder that received the archives.
        #expect(directory.issues("""
            repositories:
              usb: { driver: tar, location: "s3:s3.amazonaws.com/b/p" }
            backups:
              docs: { paths: [./x], repositories: [usb], schedules: [1h] }
            """) == [
            "config.yml:2:33: repositories.usb.location: repository \"usb\" uses the tar driver, which writes to a local directory only, but its location s3:s3.amazonaws.com/b/p is remote (s3:); use driver: restic for it, or a local path (./name for a folder whose name has a colon)",
        ])
        // Local spellings stay accepted, a colon inside a path included.
        let configuration = try directory.load("""
            repositories:
              usb: { driver: tar, location: "local:./usb" }
              odd: { driver: tar, location: "./2026:12" }
            backups:
              docs: { paths: [./x], repositories: [usb, odd], schedules: [1h] }
            """)
        #expect(configuration.repositories["odd"]?.location.hasSuffix("/2026:12") == true)
    }

    @Test func driversComeFromTheLoader() throws {
        let directory = try ConfigTempDirectory()
        let yaml = minimalConfig(repositoryExtra: "\n    driver: borg")
        #expect(directory.issues(yaml) == [
            "config.yml:5:13: repositories.main.driver: unknown driver \"borg\" (known: restic, tar); a plugin is an executable hen-plugin-borg in plugin_dirs, in plugins/ next to hen-backup, or in /usr/lib/hen-backup/plugins",
        ])
        #expect(directory.issues(minimalConfig(repositoryExtra: "\n    driver: restik")) == [
            "config.yml:5:13: repositories.main.driver: unknown driver \"restik\" (known: restic, tar); did you mean \"restic\"?",
        ])
        // A driver registered later (a plugin) is accepted, checked against its own description.
        var drivers = DriverRegistry.standard
        drivers.register(DriverDescription(name: "borg", capabilities: [.encrypted], password: .required, location: .init(remotePrefixes: ["ssh://"], hostPaths: true))) { _, _ in
            throw DriverError(.unsupported, "not built in this test")
        }
        let configuration = try directory.load(yaml, drivers: drivers)
        #expect(configuration.repositories["main"]?.driver == "borg")
        #expect(configuration.repositories["main"]?.location == directory.file("repo"))
        #expect(directory.issues(minimalConfig(repositoryExtra: "\n    driver: borg\n    limits: { upload: 1M }"), drivers: drivers) == [
            "config.yml:6:13: repositories.main.limits: the borg driver does not use limits; remove it",
        ])
        // password_command is restic's (restic runs it): a plugin's repository is told so at the key.
        #expect(directory.issues(minimalConfig(repositoryExtra: "\n    driver: borg").replacingOccurrences(of: "password: pw", with: "password_command: pass show borg"), drivers: drivers) == [
            "config.yml:4:23: repositories.main.password_command: the borg driver does not use password_command; remove it",
        ])
        let remote = try directory.load(minimalConfig(repositoryExtra: "\n    driver: borg").replacingOccurrences(of: "location: ./repo", with: "location: backup@nas:/srv/borg"), drivers: drivers)
        #expect(remote.repositories["main"]?.location == "backup@nas:/srv/borg")
    }

    @Test func checkSettings() throws {
        let directory = try ConfigTempDirectory()
        #expect(directory.issues(minimalConfig(repositoryExtra: "\n    check: { schedules: [1w], read_data_subset: 150% }")) == [
            "config.yml:5:49: repositories.main.check.read_data_subset: \"150%\" is not a subset (a percentage such as 5%, a fraction n/t such as 1/10, or a size such as 500M)",
        ])
        for subset in ["5%", "2.5%", "1/10", "500M"] {
            let configuration = try directory.load(minimalConfig(repositoryExtra: "\n    check: { read_data_subset: \"\(subset)\" }"))
            #expect(configuration.repositories["main"]?.check.readDataSubset == subset)
        }
    }
}
