import Foundation
import HenTestSupport
import Testing

/// The API against its document: schemathesis (PyPI) over the served openapi.json. A suite of its own,
/// beside the serialized fault suite rather than after it (its two minutes are mostly schemathesis's own
/// work against an idle daemon).
@Suite struct FaultSuiteAPITests {
    typealias Setup = DaemonEndToEndTests.Setup

    /// schemathesis (PyPI) generates requests from the served OpenAPI document and runs every check on the
    /// answers: no 5xx, every status, header and body as the document says, no schema-valid request refused
    /// but for the refusals the document states and no schema can express (Tests/Schemathesis/: the
    /// configuration names them per operation and status, and a check of ours requires each to be exactly
    /// the documented one). Deterministic generation: the same cases every run.
    @Test(.timeLimit(.minutes(10)))
    func schemathesisFindsNothingWrongWithTheAPI() async throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/schemathesis" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let schemathesis = path else {
            Issue.record("schemathesis is not installed; `make test` installs it (pip install schemathesis).")
            return
        }
        let setup = try Setup(schedule: "1w", extraBackupYAML: "    retention: { keep_last: 5 }")
        defer { setup.remove() }
        let daemon = try setup.startDaemon("daemon")
        defer { daemon.close() }
        try await FaultSuiteTests.waitForAPI(setup, daemon)
        _ = try await setup.waitForRecords(timeout: 120) { $0.contains { $0.state == .succeeded } }
        let configuration = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemathesis").path
        let arguments = [
            "--config-file", "\(configuration)/schemathesis.toml",
            "run", "\(setup.url)/api/v1/openapi.json", "--checks", "all", "--max-examples", "8",
            "--generation-deterministic", "--request-timeout", "30", "--header", "Authorization: Bearer \(Setup.token)",
            "--report", "junit", "--report-dir", "\(setup.directory)/schemathesis",
        ]
        let output = try await offPool { () -> (status: Int32, text: String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: schemathesis)
            process.arguments = arguments
            // Its example database (.schemathesis/) goes in the test's directory, not the checkout.
            process.currentDirectoryURL = URL(fileURLWithPath: setup.directory)
            process.environment = ProcessInfo.processInfo.environment.merging([
                "NO_COLOR": "1", "COLUMNS": "160", "SCHEMATHESIS_HOOKS": "\(configuration)/hen_refusals.py",
                "HEN_REFUSALS_LOG": "\(setup.directory)/refusals.log",
            ]) { $1 }
            let log = "\(setup.directory)/schemathesis.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let status = process.reap()
            return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
        let summary = output.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.contains("passed") || $0.contains("failed") || $0.contains("generated") || $0.contains(" in ") && $0.hasPrefix("=") }
        print("fault suite: schemathesis over the served openapi.json: \(summary.joined(separator: " | "))")
        // Its warnings (operations it could not reach past a 404, data it mostly saw refused), for the record.
        let lines = output.text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if let start = lines.firstIndex(where: { $0.contains(" WARNINGS ") }) {
            let end = lines[start...].firstIndex { $0.contains(" SUMMARY ") } ?? lines.endIndex
            print("fault suite: schemathesis warnings: \(lines[(start + 1)..<end].filter { !$0.isEmpty }.joined(separator: " | "))")
        }
        // Our check judged the allowed refusals (a hooks file that was not loaded would leave them unguarded).
        let judged = ((try? String(contentsOfFile: "\(setup.directory)/refusals.log", encoding: .utf8)) ?? "").split(separator: "\n")
        print("fault suite: schemathesis: \(judged.count) schema-valid requests refused for a documented reason: \(Dictionary(grouping: judged, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))")
        #expect(!judged.isEmpty, "hen_refusals.py judged no refusal: was it loaded?")
        #expect(output.status == 0, "schemathesis:\n\(output.text.suffix(12_000))")
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: 60) == 0, "\(daemon.output.suffix(3_000))")
    }
}
