import Foundation
import Testing
import HenProcess
@testable import HenHooks

@Suite("Hook placeholders, environment and default body")
struct HookTemplateTests {
    @Test func placeholdersAreEscapedForWhereTheyLand() {
        let context = testContext(error: "disk \"full\"\nreally")
        #expect(HookTemplate.expand("http://h/{{job.backup}}?r={{ job.repositories }}", context: context, escaping: .url)
            == "http://h/grafana%20db?r=local-disk%2Cusb")
        #expect(HookTemplate.expand(#"{"e":"{{job.error}}","h":"{{hostname}}"}"#, context: context, escaping: .json)
            == #"{"e":"disk \"full\"\nreally","h":"laptop"}"#)
        #expect(HookTemplate.expand("Job {{job.id}}: {{job.error}}", context: context, escaping: .header)
            == "Job job-42: disk \"full\" really")
        #expect(HookTemplate.expand("{{job.snapshot_ids}} {{job.state}} {{job.trigger}} {{job.operation}}", context: context, escaping: .none)
            == "abc123,def456 running schedule backup")
        #expect(HookTemplate.expand("{{nope}} and {{ unclosed", context: context, escaping: .none) == "{{nope}} and {{ unclosed")
        #expect(HookTemplate.unknownPlaceholders(in: "{{job.id}} {{job.idd}} {{ hostname }}") == ["job.idd"])
    }

    @Test func jsonEscapingProducesValidJSON() throws {
        let context = testContext(error: "tab\there \u{1} \\ \"q\"")
        let body = HookTemplate.expand(#"{"error":"{{job.error}}"}"#, context: context, escaping: .json)
        let decoded = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String]
        #expect(decoded?["error"] == "tab\there \u{1} \\ \"q\"")
    }

    @Test func environmentNamesEveryContextField() {
        let env = testContext(error: "boom").environment
        #expect(env["HEN_JOB_ID"] == "job-42")
        #expect(env["HEN_OPERATION"] == "backup")
        #expect(env["HEN_BACKUP"] == "grafana db")
        #expect(env["HEN_REPOSITORIES"] == "local-disk,usb")
        #expect(env["HEN_TRIGGER"] == "schedule")
        #expect(env["HEN_STATE"] == "running")
        #expect(env["HEN_ERROR"] == "boom")
        #expect(env["HEN_SNAPSHOT_IDS"] == "abc123,def456")
        #expect(env["HEN_HOSTNAME"] == "laptop")
        #expect(HookContext.placeholderNames.allSatisfy { testContext().placeholderValue($0) != nil })
    }

    @Test func defaultBodyDescribesTheJob() throws {
        var context = testContext()
        context.backup = nil
        let body = context.defaultJSONBody(phase: .after)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["event"] as? String == "hen.hook")
        #expect(object["phase"] as? String == "after")
        #expect(object["hostname"] as? String == "laptop")
        let job = try #require(object["job"] as? [String: Any])
        #expect(job["id"] as? String == "job-42")
        #expect(job["operation"] as? String == "backup")
        #expect(job["backup"] is NSNull)
        #expect(job["error"] is NSNull)
        #expect(job["repositories"] as? [String] == ["local-disk", "usb"])
        #expect(job["snapshot_ids"] as? [String] == ["abc123", "def456"])
        #expect(job["trigger"] as? String == "schedule")
        #expect(job["state"] as? String == "running")
    }

    @Test func stepNamesCarryNoCredentialsQueriesOrSecrets() {
        let http = HookDefinition(action: .http(HTTPHook(url: "https://user:pw@hc.example/ping/{{job.id}}?token=t0ken")))
        #expect(HookRunner.stepName(http, index: 0, phase: .before) == "before[0] http POST https://hc.example/ping/{{job.id}}")
        let command = HookDefinition(action: .command(CommandHook(invocation: .shell("curl -u admin:$PW https://x"), environment: ["PW": Secret("admin:$PW")])))
        #expect(HookRunner.stepName(command, index: 2, phase: .finally) == "finally[2] shell curl -u *** https://x")
    }

    @Test func boundedOutputKeepsHeadAndTail() {
        let output = BoundedOutput(limit: 200)
        for i in 0..<1000 { output.append("line \(i)") }
        let (text, truncated) = output.text
        #expect(truncated)
        #expect(text.hasPrefix("line 0\nline 1\n"))
        #expect(text.hasSuffix("line 999"))
        #expect(text.contains("bytes of output omitted"))
        #expect(text.utf8.count < 300)
        // The marker counts exactly the bytes of the lines left out (each with its newline).
        let total = (0..<1000).reduce(0) { $0 + "line \($1)".utf8.count + 1 }
        let kept = text.split(separator: "\n").filter { !$0.hasPrefix("…") }.reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(text.contains("… \(total - kept) bytes of output omitted …"), "\(text)")
    }

    /// One 70 KB line (a dump printed to stdout) keeps its start and its end, and says how much of its middle
    /// was left out; before, it was dropped whole and counted wrong ("… 8197 bytes of output omitted …").
    @Test func aHugeLineKeepsItsHeadAndTailWithTheRightCount() {
        let output = BoundedOutput(limit: 16 * 1024)
        output.append("before")
        let line = "HEAD" + String(repeating: "x", count: 70_000 - 8) + "TAIL"
        output.append(line)
        output.append("after")
        let (text, truncated) = output.text
        #expect(truncated)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines.map { $0.prefix(40) })")
        #expect(lines.first == "before" && lines.last == "after")
        let kept = lines[1]
        #expect(kept.hasPrefix("HEADxxx") && kept.hasSuffix("xxxTAIL"))
        let marker = kept.firstMatch(of: /… (\d+) bytes omitted …/)
        #expect(marker != nil)
        let omitted = Int(marker?.output.1 ?? "") ?? -1
        let keptBytes = kept.utf8.count - (marker.map { kept[$0.range].utf8.count + 2 } ?? 0)
        #expect(omitted + keptBytes == 70_000, "omitted \(omitted), kept \(keptBytes)")
        #expect(kept.utf8.count < 8 * 1024)
        // Multi-byte characters are cut between characters, never inside one.
        let accents = BoundedOutput.shorten(String(repeating: "é", count: 10_000), limit: 101)
        #expect(accents.hasPrefix("éé") && accents.hasSuffix("éé") && !accents.contains("\u{FFFD}"))
    }
}

@Suite("Printing requests")
struct HTTPRequestPrintingTests {
    @Test func printedRequestsHideHeaderValues() {
        let request = HTTPRequest(url: "http://x/", headers: [HTTPHeader("Authorization", "Bearer s3cr3t-token")])
        #expect(!String(describing: request).contains("s3cr3t-token"))
        #expect(!String(reflecting: request).contains("s3cr3t-token"))
        #expect(String(describing: request).contains("Authorization"))
    }
}
