import Foundation
import HenTestSupport
import Testing

/// The CLI binary as users run it: outputs and exit codes of commands that need no repository.
@Suite struct CommandLineTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `hen-backup` with `arguments` to its end (off the cooperative pool).
    static func hen(_ arguments: [String]) async throws -> Run {
        guard let executable = DaemonProcess.executable else {
            throw DaemonTestError("The hen-backup executable was not found beside the test bundle; run `swift build` first.")
        }
        return try await offPool {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let status = process.reap()
            return Run(status: status, stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
        }
    }

    static func writeConfig(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hen-cli-\(UUID().uuidString).yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func configCheckListsEveryErrorWithItsPlaceAndExits1() async throws {
        let path = try Self.writeConfig("""
            repositories:
              local: { location: /tmp/x, password: secret-value-123 }
            backups:
              docs:
                pathz: [/srv/docs]
                repositories: [local, ovh]
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try await Self.hen(["config", "check", "--config", path])
        #expect(text.status == 1)
        #expect(text.stderr.contains("\(path):5:5: backups.docs.pathz: unknown key \"pathz\"; did you mean \"paths\"?"), "\(text.stderr)")
        #expect(text.stderr.contains("\(path):6:27: backups.docs.repositories[1]: unknown repository \"ovh\" (known: local)"), "\(text.stderr)")
        #expect(!text.stderr.contains("secret-value-123") && !text.stdout.contains("secret-value-123"))

        let json = try await Self.hen(["config", "check", "--json", "--config", path])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.contains { $0["key_path"] as? String == "backups.docs.pathz" && $0["line"] as? Int == 5 && $0["column"] as? Int == 5 })
        #expect(errors.contains { $0["key_path"] as? String == "backups.docs.repositories[1]" })
    }

    @Test func configCheckSummarizesAValidFile() async throws {
        let path = try Self.writeConfig("""
            hostname: cli-host
            repositories:
              local: { location: /tmp/hen-cli-repo, password: secret-value-123 }
            backups:
              docs:
                paths: [/tmp]
                repositories: [local]
                schedules: [1h]
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try await Self.hen(["config", "check", "--config", path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("hostname:  cli-host"))
        #expect(text.stdout.contains("schedules:    every 1h (next: now)"), "\(text.stdout)")
        #expect(!text.stdout.contains("secret-value-123"))
        let json = try await Self.hen(["config", "check", "--json", "--config", path])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        #expect(object["backups"] as? [String] == ["docs"])
    }

    /// In-process: a backup into a tar and a restic repository, then `restore REPOSITORY latest` from each
    /// (resolved among this host's snapshots whatever the driver), and an unknown id in one sentence.
    @Test func inProcessRestoreOfLatestWorksForEveryDriver() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hen-cli-restore-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/src", withIntermediateDirectories: true)
        try "hello\n".write(toFile: "\(root)/src/a.txt", atomically: true, encoding: .utf8)
        try "pw\n".write(toFile: "\(root)/pass", atomically: true, encoding: .utf8)
        let path = "\(root)/config.yml"
        try """
            hostname: cli-host
            data_dir: \(root)/data
            repositories:
              t: { driver: tar, location: \(root)/tar }
              r: { location: \(root)/restic, password_file: \(root)/pass }
            backups:
              docs: { paths: [\(root)/src], repositories: [t, r] }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let backup = try await Self.hen(["backup", "docs", "--local", "--config", path])
        #expect(backup.status == 0, "\(backup.stdout)\(backup.stderr)")
        for repository in ["t", "r"] {
            let restore = try await Self.hen(["restore", repository, "latest", "--target", "\(root)/out-\(repository)", "--local", "--config", path])
            #expect(restore.status == 0, "\(restore.stdout)\(restore.stderr)")
            #expect(restore.stdout.contains("\(repository): "), "\(restore.stdout)")
            #expect(!restore.stdout.contains("\(repository): \n"), "\(restore.stdout)")
            #expect(try String(contentsOfFile: "\(root)/out-\(repository)\(root)/src/a.txt", encoding: .utf8) == "hello\n")
        }
        let unknown = try await Self.hen(["restore", "t", "abcd1234", "--target", "\(root)/out-x", "--local", "--config", path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("Repository t has no snapshot abcd1234 of host cli-host."), "\(unknown.stderr)")
    }

    @Test func aWrongCommandLineExits64() async throws {
        let run = try await Self.hen(["backupp"])
        #expect(run.status == 64)
    }
}
