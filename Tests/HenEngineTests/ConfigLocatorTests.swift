import Foundation
import Testing
@testable import HenEngine

@Suite struct ConfigLocatorTests {
    @Test func searchOrder() throws {
        let directory = try ConfigTempDirectory()
        let explicit = try directory.write("explicit.yml", "x")
        let fromEnvironment = try directory.write("env/config.yml", "x")
        let local = try directory.write("cwd/config.yml", "x")
        let system = try directory.write("etc/config.yml", "x")
        let cwd = directory.file("cwd")

        func resolve(_ explicit: String?, _ environment: [String: String], cwd: String = cwd) throws -> String {
            try ConfigurationLocator.resolve(explicit: explicit, environment: environment, currentDirectory: cwd, systemPath: system)
        }
        #expect(try resolve(explicit, ["HEN_CONFIG": fromEnvironment]) == explicit)
        #expect(try resolve("../explicit.yml", [:]) == explicit)
        #expect(try resolve(nil, ["HEN_CONFIG": fromEnvironment]) == fromEnvironment)
        #expect(try resolve(nil, [:]) == local)
        #expect(try resolve(nil, ["HEN_CONFIG": ""]) == local)
        #expect(try resolve(nil, [:], cwd: directory.file("env/..")) == system)
    }

    @Test func explicitChoicesDoNotFallThrough() throws {
        let directory = try ConfigTempDirectory()
        try directory.write("config.yml", "x")
        #expect(throws: ConfigurationLocatorError.self) {
            try ConfigurationLocator.resolve(explicit: "missing.yml", environment: [:], currentDirectory: directory.path)
        }
        do {
            _ = try ConfigurationLocator.resolve(explicit: nil, environment: ["HEN_CONFIG": "/nowhere/c.yml"], currentDirectory: directory.path)
            Issue.record("resolved")
        } catch {
            #expect(error.message == "The configuration file /nowhere/c.yml named by $HEN_CONFIG does not exist.")
        }
    }

    @Test func nothingFoundListsThePlacesTried() throws {
        let directory = try ConfigTempDirectory()
        do {
            _ = try ConfigurationLocator.resolve(explicit: nil, environment: [:], currentDirectory: directory.path, systemPath: "/nonexistent/hen/config.yml")
            Issue.record("resolved")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.tried == [directory.file("config.yml"), "/nonexistent/hen/config.yml"])
            #expect(error.message == "No configuration file found: tried --config (not given), $HEN_CONFIG (not set), \(directory.file("config.yml")), /nonexistent/hen/config.yml.")
        }
    }
}
