import Foundation
import Synchronization
import HenDrivers
import HenProcess
import HenTestSupport
import Testing

/// The rsync plugin on a repository reached over SSH (`root@127.0.0.1:/path`): an sshd of the test's own
/// (OpenSSH from `make test`, a generated host key and client key, an ephemeral port on 127.0.0.1), the
/// client key given through the repository's `env: {RSYNC_RSH: …}` as a user would. The conformance suite
/// covers every operation on a local repository; this runs them through ssh, where rsync sends (`<f`)
/// instead of receiving and every plain command runs on the remote side.
@Suite(.serialized) struct RsyncOverSSHTests {
    /// An sshd listening on 127.0.0.1 that accepts one generated key for the current user, run (like every
    /// child of this test) through HenProcess; `stop` interrupts it and waits for it.
    final class SSHServer: Sendable {
        let directory: URL
        let port: Int
        let user: String
        private let task: Task<ChildProcessResult?, Never>
        private let ended = Ended()

        final class Ended: Sendable {
            private let value = Mutex(false)
            func set() { value.withLock { $0 = true } }
            var isSet: Bool { value.withLock { $0 } }
        }

        init(in directory: URL) async throws {
            self.directory = directory
            user = String(cString: getpwuid(getuid()).pointee.pw_name)
            guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
                throw ToolFailed(description: "/usr/sbin/sshd is missing: make test installs openssh-server")
            }
            // sshd refuses to start without its privilege separation directory (make test creates it).
            if !FileManager.default.fileExists(atPath: "/run/sshd"), getuid() == 0 {
                try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            for key in ["host_key", "client_key"] {
                _ = try await Self.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", directory.appendingPathComponent(key).path])
            }
            try FileManager.default.copyItem(at: directory.appendingPathComponent("client_key.pub"), to: directory.appendingPathComponent("authorized_keys"))
            let config = """
                ListenAddress 127.0.0.1
                HostKey \(directory.path)/host_key
                AuthorizedKeysFile \(directory.path)/authorized_keys
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PubkeyAuthentication yes
                PermitRootLogin prohibit-password
                StrictModes no
                UsePAM no
                PidFile none

                """
            try config.write(to: directory.appendingPathComponent("sshd_config"), atomically: true, encoding: .utf8)
            port = try freeLoopbackPort()
            let request = ChildProcessRequest(
                executable: "/usr/sbin/sshd", arguments: ["-D", "-e", "-f", directory.appendingPathComponent("sshd_config").path, "-p", "\(port)"],
                terminationGrace: .seconds(10)
            )
            let log = directory.appendingPathComponent("sshd.log").path
            let ended = self.ended
            task = Task {
                let result = try? await ChildProcess.run(request) { line in
                    if case .stderr(let text) = line, let handle = FileHandle(forUpdatingAtPath: log) {
                        handle.seekToEndOfFile()
                        handle.write(Data((text + "\n").utf8))
                        try? handle.close()
                    }
                }
                ended.set()
                return result
            }
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }

        /// Runs a tool to its end; its stdout, or an error naming it.
        static func run(_ executable: String, _ arguments: [String]) async throws -> String {
            let output = Mutex("")
            let result = try await ChildProcess.run(ChildProcessRequest(executable: executable, arguments: arguments)) { line in
                if case .stdout(let text) = line { output.withLock { $0 += text + "\n" } }
            }
            guard result.succeeded else { throw ToolFailed(description: "\(executable) \(arguments.joined(separator: " ")): \(result)") }
            return output.withLock { $0 }
        }

        /// What rsync and the plugin's plain commands use to reach it.
        var remoteShell: String {
            "ssh -p \(port) -i \(directory.path)/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
        }

        /// Waits until sshd accepts a login (it starts listening a moment after it is started).
        func waitUntilReady() async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                guard !ended.isSet else {
                    throw ToolFailed(description: "sshd exited: \((try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? "")")
                }
                let probe = ChildProcessRequest(executable: "/usr/bin/ssh", arguments: remoteShell.split(separator: " ").dropFirst().map(String.init) + ["-o", "BatchMode=yes", "\(user)@127.0.0.1", "true"])
                if try await ChildProcess.run(probe, onLine: { _ in }).succeeded { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw ToolFailed(description: "sshd on port \(port) never accepted the test's key")
        }

        /// Interrupts sshd (SIGINT, drained) and waits for it to end; again, does nothing.
        func stop() async {
            task.cancel()
            _ = await task.value
        }
    }

    @Test func everyOperationOverSSH() async throws {
        let scratch = try ConformanceScratch("rsync-ssh")
        let server = try await SSHServer(in: scratch.url)
        do {
            try await server.waitUntilReady()
            try await scenario(server, scratch)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func scenario(_ server: SSHServer, _ scratch: ConformanceScratch) async throws {
        let tree = try ConformanceTree(in: scratch.url.appendingPathComponent("source"))
        // A space in the remote path: every argument must survive the remote shell.
        let repositoryPath = scratch.url.appendingPathComponent("remote repository").path
        let repository = RepositoryTarget(
            name: "nas", location: "\(server.user)@127.0.0.1:\(repositoryPath)",
            environment: ["RSYNC_RSH": Secret(server.remoteShell)]
        )
        let driver = try await PluginFixture.driver("rsync", repository: repository, hostname: "host-a")
        let other = try await PluginFixture.driver("rsync", repository: repository, hostname: "host-b")

        #expect(try await driver.isInitialized() == false)
        #expect(try await driver.initialize() == .created)
        #expect(FileManager.default.fileExists(atPath: repositoryPath + "/hen-rsync.json"))
        let request = BackupRequest(paths: [tree.root.path], excludes: ConformanceTree.excludes, tags: ["backup=x", "job=1"])
        let first = try await driver.backup(request)
        #expect(first.filesNew == UInt64(tree.files.count))
        #expect(first.dataAdded == UInt64(tree.files.reduce(0) { $0 + (tree.contents($1.relative)?.count ?? 0) }))
        try Data("changed over ssh\n".utf8).write(to: tree.root.appendingPathComponent("nested/deeper/notes.md"))
        var second = request
        second.tags = ["backup=x", "job=2"]
        let next = try await driver.backup(second)
        #expect(next.filesChanged == 1)
        #expect(next.filesUnmodified == UInt64(tree.files.count - 1))
        #expect(next.parentSnapshotID == first.snapshotID)
        let foreign = try await other.backup(BackupRequest(paths: [tree.root.path], tags: ["backup=x", "job=b"]))

        // The unchanged file is one inode in both snapshots on the remote side: a hard link.
        let snapshots = try await driver.snapshots(SnapshotFilter()).collectAll()
        #expect(snapshots.map(\.id) == [first.snapshotID, next.snapshotID])
        let hostDirectory = repositoryPath + "/snapshots/host-a"
        let directories = try FileManager.default.contentsOfDirectory(atPath: hostDirectory).filter { !$0.hasPrefix(".") }.sorted()
        try #require(directories.count == 2)
        let plain = directories.map { "\(hostDirectory)/\($0)/files\(tree.root.path)/plain.txt" }
        let inodes = try plain.map { try FileManager.default.attributesOfItem(atPath: $0)[.systemFileNumber] as? UInt64 }
        #expect(inodes[0] != nil && inodes[0] == inodes[1])

        // list, dump (file and directory), restore of one subtree: through ssh.
        let nodes = try await driver.list(snapshot: next.snapshotID, path: tree.root.path + "/nested").collectAll()
        #expect(Set(nodes.compactMap { ConformanceTree.relative($0.path) }) == Set(tree.items.map(\.relative).filter { $0.hasPrefix("nested") }))
        let notes = try await driver.dump(snapshot: next.snapshotID, path: tree.root.path + "/nested/deeper/notes.md").collectAll()
        #expect(notes.flatMap { $0 } == Array("changed over ssh\n".utf8))
        var tarBytes: [UInt8] = []
        for try await chunk in driver.dump(snapshot: first.snapshotID, path: tree.root.path + "/nested") { tarBytes += chunk }
        let tarFile = scratch.url.appendingPathComponent("nested.tar")
        try Data(tarBytes).write(to: tarFile)
        let entries = try await SSHServer.run("/usr/bin/tar", ["--quoting-style=literal", "-tf", tarFile.path])
        #expect(entries.contains(String(tree.root.path.dropFirst()) + "/nested/dir with space/data.bin"))
        let target = scratch.url.appendingPathComponent("restored")
        _ = try await driver.restore(RestoreRequest(snapshot: first.snapshotID, target: target.path, includes: [tree.root.path + "/nested"]))
        #expect(FileManager.default.contents(atPath: target.path + tree.root.path + "/nested/deeper/notes.md") == Data("# notes\n".utf8))
        #expect(!FileManager.default.fileExists(atPath: target.path + tree.root.path + "/plain.txt"))

        // Host confinement, forget by policy, check (sound, then a truncated file found), stats.
        try await expectDriverError(.snapshotNotFound) { _ = try await driver.list(snapshot: foreign.snapshotID, path: nil).collectAll() }
        let forgotten = try await driver.forget(ForgetRequest(selection: .policy(RetentionPolicy(keepLast: 1)), tags: ["backup=x"], prune: true))
        #expect(forgotten.removed == [first.snapshotID])
        #expect(try await driver.snapshots(SnapshotFilter()).collectAll().map(\.id) == [next.snapshotID])
        #expect(try await other.snapshots(SnapshotFilter()).collectAll().map(\.id) == [foreign.snapshotID])
        #expect(try await driver.check(CheckRequest()).ok)
        let kept = try #require(try FileManager.default.contentsOfDirectory(atPath: hostDirectory).first { !$0.hasPrefix(".") })
        let data = "\(hostDirectory)/\(kept)/files\(tree.root.path)/nested/dir with space/data.bin"
        try FileHandle(forWritingTo: URL(fileURLWithPath: data)).truncate(atOffset: 10)
        let damaged = try await driver.check(CheckRequest())
        #expect(damaged.errors.count == 1)
        #expect(try #require(try await driver.stats().totalSize) > 0)

        // The remote side gone: backend_unreachable, as for every driver.
        await server.stop()
        try await expectDriverError(.backendUnreachable) { _ = try await driver.snapshots(SnapshotFilter()).collectAll() }
    }
}
