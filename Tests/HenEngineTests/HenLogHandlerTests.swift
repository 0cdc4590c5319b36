import Foundation
import Logging
import Synchronization
import Testing
@testable import HenEngine

@Suite struct HenLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var output: LogOutput { LogOutput { line in self.lines.withLock { $0.append(line) } } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func jsonLineCarriesTimeLevelMessageComponentAndContext() throws {
        let lines = Lines()
        var logger = Logger(label: "hen.driver") { HenLogHandler(label: $0, format: .json, level: .debug, output: lines.output) }
        logger[metadataKey: "job_id"] = "j-1"
        logger.info("backup \"done\"\nnext", metadata: ["repository": "local-disk", "files": .array(["a", "b"]), "counts": ["new": "3"]])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "backup \"done\"\nnext")
        #expect(object["component"] as? String == "driver")
        #expect(object["job_id"] as? String == "j-1")
        #expect(object["repository"] as? String == "local-disk")
        #expect(object["files"] as? [String] == ["a", "b"])
        #expect((object["counts"] as? [String: String])?["new"] == "3")
        let time = try #require(object["time"] as? String)
        #expect(try Date(time, strategy: .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon)) <= Date())
    }

    @Test func levelsApplyPerComponent() {
        let lines = Lines()
        let levels: [String: Logger.Level] = ["driver": .debug]
        func make(_ label: String) -> Logger {
            Logger(label: label) { HenLogHandler(label: $0, format: .text, level: levels[HenLogHandler.component(of: $0)] ?? .info, output: lines.output) }
        }
        make("hen.driver").debug("driver detail")
        make("hen.engine").debug("engine detail")
        make("hen.engine").info("engine info", metadata: ["backup": "docs"])
        #expect(lines.all.count == 2)
        #expect(lines.all[0].contains("[driver] driver detail"))
        #expect(lines.all[1].contains("INFO") && lines.all[1].contains("backup=docs"))
    }

    /// `levels: { engine: error }` quiets the engine's own lines, not the driver and hook lines that go
    /// through copies of the engine's logger: those follow their own level, or `log.level`.
    @Test func aComponentsLevelDoesNotQuietOtherComponentsOnItsLogger() {
        let lines = Lines()
        var engine = Logger(label: "hen.engine") { HenLogHandler(label: $0, format: .text, level: .info, levels: ["engine": .error, "hooks": .warning], output: lines.output) }
        engine.info("engine info")
        var driver = engine
        driver[metadataKey: "component"] = "driver"
        driver.info("driver info")
        var hooks = engine
        hooks[metadataKey: "component"] = "hooks"
        hooks.info("hook info")
        hooks.warning("hook warning")
        engine[metadataKey: "component"] = "engine"
        engine.error("engine error")
        #expect(lines.all.count == 3, "\(lines.all)")
        #expect(lines.all[0].contains("driver info") && lines.all[1].contains("hook warning") && lines.all[2].contains("engine error"))
    }
}
