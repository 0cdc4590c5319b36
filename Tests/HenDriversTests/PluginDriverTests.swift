import Foundation
import HenDrivers
import HenProcess
import HenTestSupport
import Synchronization
import Testing

/// PluginDriver against small plugins written as shell scripts: the well-behaved path (request on stdin,
/// events, items, bytes), and every way a plugin can misbehave, each a clear ``DriverError``.
@Suite struct PluginDriverTests {
    static let description = #"{"name":"demo","capabilities":["locks"],"password":"required","location":{"remotePrefixes":[],"hostPaths":false},"keys":[]}"#

    /// A plugin directory holding `hen-plugin-demo` with `body` as its script (after the describe answer).
    final class PluginDirectory: Sendable {
        let path: String
        var executable: String { (path as NSString).appendingPathComponent("hen-plugin-demo") }

        init(_ body: String) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("hen-plugin-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let script = """
                #!/bin/sh
                if [ "$1" = describe ]; then
                  echo '{"type":"result","result":{"protocolVersion":1,"description":\(PluginDriverTests.description)}}'
                  exit 0
                fi
                \(body)

                """
            try Data(script.utf8).write(to: URL(fileURLWithPath: executable))
            chmod(executable, 0o755)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func driver(grace: Duration = .seconds(30)) async throws -> PluginDriver {
            let description = try await PluginDiscovery.describe(name: "demo", executable: executable)
            return try PluginDriver(
                description: description, executable: executable,
                repository: RepositoryTarget(name: "plugged", location: path, password: Secret("hunter2-secret")),
                context: DriverContext(hostname: "host-a"), interruptGrace: grace
            )
        }
    }

    static func failure(_ body: () async throws -> Void) async -> DriverError? {
        do {
            try await body()
            return nil
        } catch let error as DriverError {
            return error
        } catch {
            Issue.record("not a DriverError: \(error)")
            return nil
        }
    }

    @Test func discoveryRegistersAPluginUnderItsNameAndNeverReplacesABuiltIn() async throws {
        let plugins = try PluginDirectory("exit 3")
        let tarPlugin = (plugins.path as NSString).appendingPathComponent("hen-plugin-tar")
        try FileManager.default.copyItem(atPath: plugins.executable, toPath: tarPlugin)
        let (registry, problems) = await DriverRegistry.standard.addingPlugins(in: [plugins.path])
        #expect(problems.isEmpty)
        #expect(registry.names == ["demo", "restic", "tar"])
        let demo = try #require(registry.description(of: "demo"))
        #expect(demo.capabilities == [.locks])
        #expect(demo.password == .required)
        // The built-in tar stays tar.
        #expect(registry.description(of: "tar") == TarDriver.description)
    }

    /// Registries with a plugin `name` beside demo whose only answer is `describe`'s result `answer`.
    static func discover(_ name: String, describing answer: String) async throws -> (DriverRegistry, [String: String]) {
        let plugins = try PluginDirectory("exit 3")
        let executable = (plugins.path as NSString).appendingPathComponent("hen-plugin-\(name)")
        try Data("#!/bin/sh\necho '{\"type\":\"result\",\"result\":\(answer)}'\n".utf8).write(to: URL(fileURLWithPath: executable))
        chmod(executable, 0o755)
        return await DriverRegistry.standard.addingPlugins(in: [plugins.path])
    }

    @Test func aPluginThatCannotDescribeItselfIsLeftOutWithAReason() async throws {
        let (registry, problems) = try await Self.discover("old", describing: #"{"protocolVersion":99,"description":{"name":"old","capabilities":[],"password":"none","location":{"remotePrefixes":[],"hostPaths":false},"keys":[]}}"#)
        #expect(!registry.contains("old"))
        #expect(problems["old"]?.contains("speaks plugin protocol 99, not 1") == true)
    }

    /// Hen sends a plugin the password itself: a plugin cannot take restic's password_command.
    @Test func aPluginThatClaimsPasswordCommandIsLeftOut() async throws {
        let (registry, problems) = try await Self.discover("cmd", describing: #"{"protocolVersion":1,"description":{"name":"cmd","capabilities":[],"password":"required","location":{"remotePrefixes":[],"hostPaths":false},"keys":["password_command"]}}"#)
        #expect(!registry.contains("cmd"))
        #expect(problems["cmd"]?.contains("takes password_command, which the plugin protocol does not carry") == true)
    }

    @Test func theRequestArrivesOnStdinAndSecretsNeverOnTheCommandLine() async throws {
        let plugins = try PluginDirectory(#"""
            dir=$(dirname "$0")
            echo "$@" > "$dir/argv"
            cat > "$dir/request.json"
            echo '{"type":"progress","progress":{"fraction":0.5,"currentFiles":[]}}'
            echo '{"type":"warning","message":"could not read /x"}'
            echo '{"type":"result","result":{"backup":{"snapshotID":"abc123","filesNew":2,"filesChanged":0,"filesUnmodified":0,"dirsNew":1,"dirsChanged":0,"dirsUnmodified":0,"dataAdded":10,"totalFilesProcessed":2,"totalBytesProcessed":10,"duration":0.1,"warnings":["could not read /x"]}}}'
            """#)
        let driver = try await plugins.driver()
        let events = Mutex<[DriverEvent]>([])
        let summary = try await driver.backup(BackupRequest(paths: ["/tmp"], excludes: ["*.tmp"], tags: ["backup=docs", "job=7"])) { event in
            events.withLock { $0.append(event) }
        }
        #expect(summary.snapshotID == "abc123")
        #expect(summary.filesNew == 2)
        let seen = events.withLock { $0 }
        #expect(seen.contains(.progress(Progress(fraction: 0.5))))
        #expect(seen.contains(.warning("could not read /x")))
        let argv = try String(contentsOfFile: (plugins.path as NSString).appendingPathComponent("argv"), encoding: .utf8)
        #expect(argv == "backup\n")
        let data = try Data(contentsOf: URL(fileURLWithPath: (plugins.path as NSString).appendingPathComponent("request.json")))
        let request = try PluginProtocol.decoder().decode(PluginRequest.self, from: data)
        #expect(request.operation == .backup)
        #expect(request.protocolVersion == PluginProtocol.version)
        #expect(request.host == "host-a")
        #expect(request.repository?.password == "hunter2-secret")
        #expect(request.backup == BackupRequest(paths: ["/tmp"], excludes: ["*.tmp"], tags: ["backup=docs", "job=7"]))
        // The command line the job log shows has no secret in it.
        #expect(seen.allSatisfy { event in
            if case .log(_, let message) = event { return !message.contains("hunter2") }
            return true
        })
    }

    @Test func itemsStreamAndBytesFollowTheStreamLine() async throws {
        let plugins = try PluginDirectory(#"""
            case "$1" in
            snapshots)
              echo '{"type":"snapshot","snapshot":{"id":"s1","shortID":"s1","time":1700000000,"host":"host-a","tags":["backup=docs"],"paths":["/data"]}}'
              echo '{"type":"snapshot","snapshot":{"id":"s2","shortID":"s2","time":1700000100,"host":"host-a","tags":["backup=other"],"paths":["/data"]}}'
              echo '{"type":"result","result":{}}' ;;
            dump)
              echo '{"type":"stream"}'
              printf 'hello\nworld' ;;
            esac
            """#)
        let driver = try await plugins.driver()
        let snapshots = try await driver.snapshots(SnapshotFilter(tags: ["backup=docs"])).collectAll()
        #expect(snapshots.map(\.id) == ["s1"])
        #expect(snapshots.first?.time == Date(timeIntervalSince1970: 1_700_000_000))
        var bytes: [UInt8] = []
        for try await chunk in driver.dump(snapshot: "s1", path: "/data/a") { bytes += chunk }
        #expect(String(decoding: bytes, as: UTF8.self) == "hello\nworld")
    }

    @Test func anErrorLineBecomesTheDriverErrorWithItsCode() async throws {
        let plugins = try PluginDirectory(#"""
            echo '{"type":"error","error":{"code":"wrong_password","message":"Repository plugged: the password is wrong."}}'
            exit 1
            """#)
        let error = await Self.failure { _ = try await plugins.driver().stats() }
        #expect(error?.code == .wrongPassword)
        #expect(error?.message == "Repository plugged: the password is wrong.")
    }

    @Test(arguments: [
        ("not json", "echo 'this is not json'", "line 1 of its output is not a protocol message (not JSON): this is not json"),
        ("no result", "echo '{\"type\":\"progress\",\"progress\":{\"currentFiles\":[]}}'", "exited with code 0 without a result for stats"),
        ("two results", "echo '{\"type\":\"result\",\"result\":{\"stats\":{}}}'; echo '{\"type\":\"result\",\"result\":{\"stats\":{}}}'", "line 2 of its output comes after its result, which must be the last line"),
        ("wrong member", "echo '{\"type\":\"result\",\"result\":{\"check\":{\"errors\":[],\"warnings\":[]}}}'", "is a result without the \"stats\" member that stats answers"),
        ("unknown code", "echo '{\"type\":\"error\",\"error\":{\"code\":\"oops\",\"message\":\"x\"}}'", "is an error with the unknown code \"oops\""),
        ("crash", "kill -SEGV $$", "was killed by signal 11 without a result for stats"),
        ("exit after result", "echo '{\"type\":\"result\",\"result\":{\"stats\":{}}}'; exit 4", "reported a result for stats but then exited with code 4"),
        ("node in stats", "echo '{\"type\":\"node\",\"node\":{\"path\":\"/a\",\"name\":\"a\",\"kind\":\"file\"}}'", "is a node, which only the list operation lists"),
        ("line flood", "head -c 3000000 /dev/zero | tr '\\0' a", "wrote a line longer than 1048576 bytes"),
        ("warning flood", "while :; do echo '{\"type\":\"warning\",\"message\":\"again\"}'; done", "one warning or log line too many (more than 100000)"),
    ])
    func aMisbehavingPluginIsAClearError(_ name: String, _ body: String, _ expected: String) async throws {
        let plugins = try PluginDirectory(body)
        let error = await Self.failure { _ = try await plugins.driver().stats() }
        let message = error?.message ?? "(no error)"
        #expect(error?.code == .failed, "\(name): \(message)")
        #expect(message.contains(expected), "\(name): \(message)")
        #expect(message.hasPrefix("Repository \"plugged\": the demo plugin"), "\(name): \(message)")
    }

    @Test func aSnapshotOfAnotherHostBreaksTheProtocol() async throws {
        let plugins = try PluginDirectory(#"""
            echo '{"type":"snapshot","snapshot":{"id":"s9","shortID":"s9","time":1700000000,"host":"host-b","tags":[],"paths":["/data"]}}'
            echo '{"type":"result","result":{}}'
            """#)
        let driver = try await plugins.driver()
        let error = await Self.failure { _ = try await driver.snapshots(SnapshotFilter()).collectAll() }
        #expect(error?.message.contains("is a snapshot of the host \"host-b\", not of \"host-a\"") == true)
    }

    /// A hang (past a job's max_duration, which cancels the job): the plugin ignores SIGINT, gets SIGKILL
    /// after the grace, the call ends `.cancelled`, and nothing it started is left.
    @Test func aHangingPluginIsStoppedWhenTheCallerIsCancelled() async throws {
        let plugins = try PluginDirectory(#"""
            trap '' INT
            echo $$ > "$(dirname "$0")/pid"
            while :; do sleep 1; done
            """#)
        let driver = try await plugins.driver(grace: .milliseconds(500))
        let pidFile = (plugins.path as NSString).appendingPathComponent("pid")
        let task = Task { await Self.failure { try await driver.unlock() } }
        while !FileManager.default.fileExists(atPath: pidFile) || (try? String(contentsOfFile: pidFile, encoding: .utf8))?.isEmpty != false {
            try await Task.sleep(for: .milliseconds(20))
        }
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        task.cancel()
        let error = await task.value
        #expect(error?.code == .cancelled)
        #expect(!ProcessTable.isRunning(pid))
    }

    /// A plugin with the `diff` capability compares two snapshots itself: the request names them, its
    /// `change` and `statistics` lines become the stream's items. A second `statistics` line, or a change
    /// in another operation, breaks the protocol.
    @Test func aPluginWithTheDiffCapabilityStreamsItsChanges() async throws {
        let plugins = try PluginDirectory(#"""
            cat > "$(dirname "$0")/request.json"
            echo '{"type":"change","change":{"path":"/data/new.txt","kind":"added","nodeKind":"file"}}'
            echo '{"type":"change","change":{"path":"/data/old","kind":"removed"}}'
            echo '{"type":"statistics","statistics":{"bytesAdded":12}}'
            echo '{"type":"result","result":{}}'
            """#)
        let base = try await plugins.driver()
        var description = base.description
        description.capabilities.insert(.diff)
        let driver = try PluginDriver(description: description, executable: base.executable, repository: base.repository, context: base.context)
        let items = try await driver.diff(from: "s1", to: "s2").collectAll()
        #expect(items == [
            .change(SnapshotChange(path: "/data/new.txt", kind: .added, nodeKind: .file)),
            .change(SnapshotChange(path: "/data/old", kind: .removed)),
            .statistics(SnapshotDiffStatistics(bytesAdded: 12)),
        ])
        let data = try Data(contentsOf: URL(fileURLWithPath: (plugins.path as NSString).appendingPathComponent("request.json")))
        let request = try PluginProtocol.decoder().decode(PluginRequest.self, from: data)
        #expect(request.operation == .diff)
        #expect(request.diff == PluginRequest.Diff(older: "s1", newer: "s2"))

        // Without the capability Hen never runs the plugin for a diff.
        #expect(await Self.failure { _ = try await base.diff(from: "s1", to: "s2").collectAll() }?.code == .unsupported)

        let twice = try PluginDirectory(#"""
            echo '{"type":"statistics","statistics":{}}'
            echo '{"type":"statistics","statistics":{}}'
            echo '{"type":"result","result":{}}'
            """#)
        let twiceBase = try await twice.driver()
        let twiceDriver = try PluginDriver(description: description, executable: twiceBase.executable, repository: twiceBase.repository, context: twiceBase.context)
        let error = await Self.failure { _ = try await twiceDriver.diff(from: "s1", to: "s2").collectAll() }
        #expect(error?.message.contains("line 2 of its output is a second statistics line") == true, "\(error?.message ?? "(no error)")")
        let changeInList = try PluginDirectory(#"echo '{"type":"change","change":{"path":"/a","kind":"added"}}'"#)
        let listError = await Self.failure { _ = try await changeInList.driver().list(snapshot: "s1", path: nil).collectAll() }
        #expect(listError?.message.contains("is a change, which only the diff operation lists") == true, "\(listError?.message ?? "(no error)")")
    }

    @Test func unsupportedOperationsAnswerUnsupportedWithoutRunningThePlugin() async throws {
        let plugins = try PluginDirectory(#"touch "$(dirname "$0")/ran"; exit 1"#)
        let description = DriverDescription(name: "demo", capabilities: [], password: .none, location: .localDirectory)
        let driver = try PluginDriver(description: description, executable: plugins.executable, repository: RepositoryTarget(name: "plugged", location: plugins.path), context: DriverContext(hostname: "host-a"))
        #expect(await Self.failure { try await driver.unlock() }?.code == .unsupported)
        #expect(await Self.failure { _ = try await driver.check(CheckRequest(readDataSubset: "5%")) }?.code == .unsupported)
        #expect(!FileManager.default.fileExists(atPath: (plugins.path as NSString).appendingPathComponent("ran")))
    }
}
