import Foundation
@testable import HenDrivers
import HenProcess
import HenTestSupport
import Testing

/// `password_command` with the real restic: restic runs the command at each use and reads its stdout; a
/// failing command is explained by its stderr, bounded, and never by its output.
@Suite struct ResticPasswordCommandTests {
    @Test func theCommandsOutputOpensTheRepositoryAtEachUse() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        let passwordFile = sandbox.path("password")
        try Data("\(ResticSandbox.password)\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
        let uses = sandbox.path("uses")
        let driver = try sandbox.driver(password: nil, passwordCommand: "sh -c 'echo used >> \(uses); cat \(passwordFile)'")
        #expect(driver.processRequest(["snapshots"], version: .floor).environment["RESTIC_PASSWORD_COMMAND"] != nil)
        #expect(driver.processRequest(["snapshots"], version: .floor).environment["RESTIC_PASSWORD"] == nil)
        _ = try await driver.initialize()
        let summary = try await driver.backup(BackupRequest(paths: [try sandbox.makeSource()]))
        // The same repository opens with the password itself: the command's stdout was the password.
        var snapshots: [String] = []
        for try await snapshot in try sandbox.driver().snapshots(SnapshotFilter()) { snapshots.append(snapshot.id) }
        #expect(snapshots == [summary.snapshotID])
        let runs = try String(contentsOfFile: uses, encoding: .utf8).split(separator: "\n").count
        #expect(runs >= 2, "restic runs the command for every command it runs (init, backup): \(runs)")
    }

    @Test func aFailingCommandSaysWhyWithoutItsOutput() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        _ = try await sandbox.driver().initialize()
        let driver = try sandbox.driver(
            name: "vault", password: nil,
            passwordCommand: "sh -c 'echo stdout-that-must-not-show; echo vault is sealed >&2; exit 3'"
        )
        let error = await #expect(throws: DriverError.self) { try await driver.isInitialized() }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message == "Repository \"vault\": password_command failed (exit status 3); it said: vault is sealed")
        #expect(error?.detail == "vault is sealed")

        let missing = try sandbox.driver(name: "vault", password: nil, passwordCommand: sandbox.path("no-such-helper"))
        let missingError = await #expect(throws: DriverError.self) { try await missing.isInitialized() }
        #expect(missingError?.message.hasPrefix("Repository \"vault\": password_command failed (fork/exec \(sandbox.path("no-such-helper")): no such file or directory)") == true)
    }

    @Test func aFloodOfStderrIsBounded() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        _ = try await sandbox.driver().initialize()
        let driver = try sandbox.driver(
            password: nil,
            passwordCommand: #"sh -c 'i=0; while [ $i -lt 40 ]; do printf "line %s %0500d\n" $i 0 >&2; i=$((i+1)); done; exit 1'"#
        )
        let error = await #expect(throws: DriverError.self) { try await driver.isInitialized() }
        let message = try #require(error?.message)
        #expect(message.hasPrefix("Repository \"local\": password_command failed (exit status 1); it said: line 35 "))
        #expect(message.contains("line 39 "))
        #expect(!message.contains("line 34 "))
        #expect(message.count < ResticDriver.passwordCommandStderrLines * (ResticDriver.passwordCommandStderrLineLength + 4) + 100)
    }

    @Test func emptyOrWrongOutputIsNamed() async throws {
        let sandbox = try ResticSandbox()
        defer { sandbox.remove() }
        _ = try await sandbox.driver().initialize()
        let silent = try sandbox.driver(password: nil, passwordCommand: "true")
        let silentError = await #expect(throws: DriverError.self) { try await silent.isInitialized() }
        #expect(silentError?.message == "Repository \"local\": password_command printed no password (restic reads the password from its standard output).")
        let wrong = try sandbox.driver(password: nil, passwordCommand: "echo not-the-password")
        let wrongError = await #expect(throws: DriverError.self) { try await wrong.isInitialized() }
        #expect(wrongError?.code == .wrongPassword)
        #expect(wrongError?.message == "Repository \"local\": wrong password (check what password_command prints).")
    }
}
