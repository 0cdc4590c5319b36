import Foundation
import HenTestSupport
import HenDrivers
import Testing

/// Differential test: for the same snapshots and policies, RetentionPlanner keeps exactly what the real
/// restic (0.14 or newer, found by HenTestSupport.Restic) keeps with `forget --dry-run`.
@Suite struct RetentionResticTests {
    @Test func sameDecisionsAsRestic() async throws {
        // Many restic runs, each waited for: off the cooperative pool (see HenTestSupport.offPool).
        try await offPool { try Self().compare() }
    }

    private func compare() throws {
        let scratch = try ConformanceScratch("retention-restic")
        let data = scratch.url.appendingPathComponent("data")
        let other = scratch.url.appendingPathComponent("other")
        for directory in [data, other] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: directory.appendingPathComponent("f"))
        }
        let environment = [
            "RESTIC_REPOSITORY": scratch.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "differential",
            "RESTIC_CACHE_DIR": scratch.url.appendingPathComponent("cache").path,
            "HOME": scratch.url.path, "PATH": "/usr/bin:/bin", "TZ": "UTC",
        ]
        _ = try restic(["init"], environment)
        let backups: [(time: String, host: String, path: URL, tags: [String])] = [
            ("2023-06-15 08:00:00", "a", data, []),
            ("2023-12-31 23:30:00", "a", data, ["important"]),
            ("2024-01-01 00:30:00", "a", data, []),
            ("2024-01-01 10:00:00", "a", data, []),
            ("2024-01-01 10:40:00", "a", data, []),
            ("2024-01-02 09:00:00", "a", data, ["important", "x"]),
            ("2024-01-07 12:00:00", "a", data, []),
            ("2024-01-08 12:00:00", "a", data, []),
            ("2024-02-01 08:00:00", "a", data, []),
            ("2024-02-02 07:00:00", "a", data, []),
            ("2024-01-05 10:00:00", "b", data, []),
            ("2024-01-06 10:00:00", "b", data, []),
            ("2024-01-05 11:00:00", "a", other, []),
        ]
        for backup in backups {
            var arguments = ["backup", "-q", "--time", backup.time, "--host", backup.host]
            for tag in backup.tags { arguments += ["--tag", tag] }
            _ = try restic(arguments + [backup.path.path], environment)
        }
        let snapshots = try JSONSerialization.jsonObject(with: Data(try restic(["snapshots", "--json"], environment).utf8)) as? [[String: Any]] ?? []
        let parsed: [Snapshot] = snapshots.compactMap { object in
            guard let id = object["id"] as? String, let time = object["time"] as? String,
                  let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: time.contains(".")).parse(time)
            else { return nil }
            return Snapshot(id: id, time: date, host: object["hostname"] as? String ?? "", tags: object["tags"] as? [String] ?? [], paths: object["paths"] as? [String] ?? [])
        }
        #expect(parsed.count == backups.count)

        let policies: [(RetentionPolicy, [String])] = [
            (RetentionPolicy(keepLast: 2), ["--keep-last", "2"]),
            (RetentionPolicy(keepHourly: 3), ["--keep-hourly", "3"]),
            (RetentionPolicy(keepDaily: 3), ["--keep-daily", "3"]),
            (RetentionPolicy(keepWeekly: 3), ["--keep-weekly", "3"]),
            (RetentionPolicy(keepMonthly: 2), ["--keep-monthly", "2"]),
            (RetentionPolicy(keepYearly: 2), ["--keep-yearly", "2"]),
            (RetentionPolicy(keepWithin: KeepWithin(days: 2)), ["--keep-within", "2d"]),
            (RetentionPolicy(keepWithin: KeepWithin(months: 1, hours: 5)), ["--keep-within", "1m5h"]),
            (RetentionPolicy(keepTags: ["important"]), ["--keep-tag", "important"]),
            (RetentionPolicy(keepTags: ["important,x"]), ["--keep-tag", "important,x"]),
            (RetentionPolicy(keepLast: 1, keepDaily: 2, keepWeekly: 2, keepMonthly: 3, keepTags: ["important"]),
             ["--keep-last", "1", "--keep-daily", "2", "--keep-weekly", "2", "--keep-monthly", "3", "--keep-tag", "important"]),
        ]
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        for (policy, flags) in policies {
            let output = try restic(["forget", "--dry-run", "--json"] + flags, environment)
            let groups = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
            var resticKept: Set<String> = []
            for group in groups {
                for snapshot in group["keep"] as? [[String: Any]] ?? [] {
                    if let id = snapshot["id"] as? String { resticKept.insert(id) }
                }
            }
            let plan = RetentionPlanner(policy: policy, calendar: utc).plan(parsed)
            let ours = Set(plan.keep.map(\.id))
            #expect(ours == resticKept, "policy \(flags.joined(separator: " "))")
            #expect(Set(plan.remove.map(\.id)) == Set(parsed.map(\.id)).subtracting(resticKept), "policy \(flags.joined(separator: " "))")
        }
    }

    private func restic(_ arguments: [String], _ environment: [String: String]) throws -> String {
        try runTool(Restic.path, arguments, environment: environment)
    }
}
