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

    @Test func aWrongCommandLineExits64() async throws {
        let run = try await Self.hen(["backupp"])
        #expect(run.status == 64)
    }
}
