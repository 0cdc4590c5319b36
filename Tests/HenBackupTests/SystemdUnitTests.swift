import Foundation
import HenTestSupport
import Testing

/// packaging/hen-backup.service is a unit systemd accepts, and it keeps the hardening docs/systemd.md
/// promises.
@Suite struct SystemdUnitTests {
    static let unitPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("packaging/hen-backup.service").path

    @Test func systemdAnalyzeVerifiesTheUnit() async throws {
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let executable = try #require(DaemonProcess.executable, "build hen-backup first")
        // Verified with ExecStart on the binary just built: systemd-analyze checks that it exists.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hen-unit-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = "\(directory)/hen-backup.service"
        #expect(unit.contains("ExecStart=/usr/local/bin/hen-backup daemon "))
        try unit.replacingOccurrences(of: "/usr/local/bin/hen-backup", with: executable).write(toFile: copy, atomically: true, encoding: .utf8)

        let (status, output) = try await offPool { () -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
            process.arguments = ["verify", "--man=no", copy]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            return (process.reap(), String(decoding: data, as: UTF8.self))
        }
        // Any complaint (an unknown directive, a bad value) is printed, even when the status is 0.
        #expect(status == 0 && output.isEmpty, "systemd-analyze verify said:\n\(output)")
    }

    @Test func theUnitKeepsItsHardening() throws {
        let lines = Set(try String(contentsOfFile: Self.unitPath, encoding: .utf8).split(separator: "\n").map(String.init))
        for directive in [
            "User=hen-backup", "NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=hen-backup",
            "PrivateTmp=yes", "ProtectHome=read-only", "CapabilityBoundingSet=CAP_DAC_READ_SEARCH",
            "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
        ] {
            #expect(lines.contains(directive), "\(directive) is missing")
        }
        #expect(lines.contains { $0.hasPrefix("LoadCredential=") })
    }
}
