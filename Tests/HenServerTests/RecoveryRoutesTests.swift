import Foundation
import HenDrivers
import HenEngineTestSupport
import HenTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import HenEngine
@testable import HenServer

/// The routes of issue 19: a snapshot's diff, a drill, an alarm's acknowledgement, and what `/backups` shows
/// of them, on a real restic repository.
@Suite struct RecoveryRoutesTests {
    @Test func diffDrillAndAlarmRoutesAnswerAsDocumented() async throws {
        let site = try await RouteFixture()
        defer { site.close() }
        // A second snapshot of the backup: a.txt gone, new.txt added.
        try FileManager.default.removeItem(atPath: site.root + "/src/a.txt")
        try Data("new\n".utf8).write(to: URL(fileURLWithPath: site.root + "/src/new.txt"))
        try await RouteFixture.restic(site.root, ["backup", "--host", "testhost", "--tag", "backup=documents", site.root + "/src"])
        let app = try buildApplication(engine: site.engine, configuration: site.configuration, logger: Logger(label: "hen.test"))
        try await app.test(.router) { client in
            let diff = try await client.execute(uri: "/api/v1/repositories/local/snapshots/latest/diff?limit=1", method: .get)
            #expect(diff.status == .ok)
            let first = try json(diff)
            #expect((first["against"] as? [String: Any])?["id"] as? String == site.mine)
            #expect(first["added"] as? Int == 1 && first["removed"] as? Int == 1 && first["modified"] as? Int == 0)
            #expect(first["method"] as? String == "driver")
            let items = try #require(first["items"] as? [[String: Any]])
            #expect(items.map { $0["path"] as? String } == [site.root + "/src/a.txt"])
            #expect(items.first?["change"] as? String == "removed")
            let cursor = try #require(first["next_cursor"] as? String)
            let second = try json(try await client.execute(uri: "/api/v1/repositories/local/snapshots/latest/diff?limit=1&cursor=\(cursor)", method: .get))
            #expect((second["items"] as? [[String: Any]])?.map { $0["path"] as? String } == [site.root + "/src/new.txt"])
            #expect(second["next_cursor"] is NSNull)
            let against = try json(try await client.execute(uri: "/api/v1/repositories/local/snapshots/latest/diff?against=\(site.mine.prefix(8))&change=added", method: .get))
            #expect((against["items"] as? [[String: Any]])?.map { $0["change"] as? String } == ["added"])
            try await expectError(client, "/api/v1/repositories/local/snapshots/\(site.mine)/diff", status: .notFound, naming: "no parent")
            try await expectError(client, "/api/v1/repositories/local/snapshots/latest/diff?change=renamed", status: .badRequest)
            try await expectError(client, "/api/v1/repositories/local/snapshots/latest/diff?against=\(site.foreign)", status: .notFound, naming: site.foreign)

            // A drill: every file of the latest snapshot restored and compared.
            let queued = try await client.execute(uri: "/api/v1/backups/documents/drill", method: .post)
            #expect(queued.status == .accepted)
            let job = try #require((try json(queued)["job"] as? [String: Any])?["id"] as? String)
            let record = try await site.engine.waitForCompletion(jobID: job)
            #expect(record.state == .succeeded, "\(record.error ?? "")")
            #expect(record.results.first?.drill?.matched == 3)
            let refused = try await client.execute(uri: "/api/v1/backups/documents/drill", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"repositories":["local"]}"#))
            #expect(refused.status == .unprocessableContent)

            // No alarm: nothing to acknowledge; the overview shows the last drill and no alarm.
            let ack = try await client.execute(uri: "/api/v1/backups/documents/alarm/ack", method: .post)
            #expect(ack.status == .conflict)
            #expect(((try json(ack)["error"] as? [String: Any])?["message"] as? String)?.contains("no raised") == true)
            let overview = try json(try await client.execute(uri: "/api/v1/backups", method: .get))
            let backup = try #require((overview["items"] as? [[String: Any]])?.first)
            #expect((backup["last_drill"] as? [String: Any])?["id"] as? String == job)
            #expect(backup.keys.contains("alarm") && backup["alarm"] is NSNull)
        }
    }
}
