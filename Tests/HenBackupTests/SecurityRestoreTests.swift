import Foundation
import HenTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The restore and download half of the security suite (docs/security.md, "Restores and downloads"): the
/// real daemon with a restic and a tar repository on 127.0.0.1, `restore.allowed_targets` set, and requests
/// sent byte for byte as an attacker would send them. Nothing may be written outside the allowed directory
/// whatever links the disk or the snapshots hold, nothing read that climbs out of a snapshot, and another
/// host's snapshots are "not found" on every snapshot route. Waits are on conditions with deadlines.
@Suite(.serialized) struct SecurityRestoreTests {
    static let repositories = ["restic-repo", "tar-repo"]
    static let secret = "elsewhere-secret-4711"

    /// A daemon (host e2e-host) with repositories `restic-repo` (restic) and `tar-repo` (tar), the backup
    /// `links` of `source` into both, and the backup `gate`, whose `before` hook holds it running until
    /// `release` exists. `allowed` is the only allowed restore target; `elsewhere` (holding secret.txt) is
    /// where links lead and where nothing must ever be written.
    struct Fixture {
        let setup: DaemonEndToEndTests.Setup
        var directory: String { setup.directory }
        var allowed: String { "\(directory)/allowed" }
        var elsewhere: String { "\(directory)/elsewhere" }
        var source: String { "\(directory)/source" }
        var release: String { "\(directory)/release" }
        var otherConfigPath: String { "\(directory)/other.yml" }
        var port: Int { setup.port }

        init() throws {
            setup = try DaemonEndToEndTests.Setup(schedule: "1w")
            let files = FileManager.default
            try files.createDirectory(atPath: "\(directory)/allowed", withIntermediateDirectories: true)
            try files.createDirectory(atPath: "\(directory)/elsewhere", withIntermediateDirectories: true)
            try files.createDirectory(atPath: "\(directory)/gate", withIntermediateDirectories: true)
            try files.createDirectory(atPath: "\(directory)/source/data", withIntermediateDirectories: true)
            try "\(Self.secretText)\n".write(toFile: "\(directory)/elsewhere/secret.txt", atomically: true, encoding: .utf8)
            try "gate\n".write(toFile: "\(directory)/gate/file", atomically: true, encoding: .utf8)
            try configuration(hostname: "e2e-host", dataDirectory: setup.dataDirectory, port: setup.port).write(toFile: setup.configPath, atomically: true, encoding: .utf8)
            try configuration(hostname: "other-host", dataDirectory: "\(directory)/other-data", port: try freeLoopbackPort()).write(toFile: otherConfigPath, atomically: true, encoding: .utf8)
        }

        static let secretText = SecurityRestoreTests.secret

        func configuration(hostname: String, dataDirectory: String, port: Int) -> String {
            """
            hostname: \(hostname)
            data_dir: \(dataDirectory)
            executables: { restic: \(DaemonEndToEndTests.restic) }
            api:
              listen: 127.0.0.1:\(port)
              auth: { tokens: [\(DaemonEndToEndTests.Setup.token)] }
            restore: { allowed_targets: [\(directory)/allowed] }
            repositories:
              restic-repo:
                location: \(directory)/repo
                password_file: \(directory)/password
              tar-repo:
                driver: tar
                location: \(directory)/tar
            backups:
              links:
                paths: [\(directory)/source]
                repositories: [restic-repo, tar-repo]
              gate:
                paths: [\(directory)/gate]
                repositories: [restic-repo]
                hooks:
                  before:
                    - command: [/bin/sh, -c, "while [ ! -e \(directory)/release ]; do sleep 0.05; done"]
            """
        }

        /// Starts the daemon and waits until its API answers.
        func startDaemon() async throws -> DaemonProcess {
            let daemon = try setup.startDaemon("daemon")
            let deadline = Date().addingTimeInterval(60)
            while true {
                if let answer = try? await http("GET", "/api/v1/status"), answer.status == 200 { return daemon }
                guard Date() < deadline, daemon.isRunning else {
                    daemon.close()
                    throw DaemonTestError("The API did not answer on port \(port). Daemon output:\n\(daemon.output.suffix(4_000))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func stop(_ daemon: DaemonProcess) async {
            if !FileManager.default.fileExists(atPath: release) { _ = FileManager.default.createFile(atPath: release, contents: nil) }
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(timeout: 30) == 0, "daemon output:\n\(daemon.output.suffix(4_000))")
        }

        // MARK: HTTP

        struct Answer {
            var status: Int
            var body: Data
            var text: String { String(decoding: body, as: UTF8.self) }
            var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
            /// The `{"error": {"code", "message"}}` of a refusal, when the body is one.
            var error: (code: String, message: String)? {
                guard let error = json?["error"] as? [String: Any], let code = error["code"] as? String, let message = error["message"] as? String else { return nil }
                return (code, message)
            }
        }

        /// One request on a fresh loopback connection, its target sent exactly as given (no client that
        /// would resolve `..` or percent-escapes first), read until the server closes the connection.
        func http(_ method: String, _ target: String, json: [String: Any]? = nil) async throws -> Answer {
            let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
            let port = self.port
            return try await offPool {
                var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(DaemonEndToEndTests.Setup.token)\r\nConnection: close\r\n"
                if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
                var request = Data((head + "\r\n").utf8)
                if let body { request.append(body) }
                let response = try Self.exchange(request, port: port)
                guard let end = response.range(of: Data("\r\n\r\n".utf8)),
                    let statusLine = String(data: response[..<end.lowerBound], encoding: .utf8)?.split(separator: "\r\n").first,
                    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
                else { throw DaemonTestError("Not an HTTP answer to \(method) \(target): \(String(decoding: response.prefix(200), as: UTF8.self))") }
                let headers = String(decoding: response[..<end.lowerBound], as: UTF8.self).lowercased()
                let raw = Data(response[end.upperBound...])
                return Answer(status: status, body: headers.contains("transfer-encoding: chunked") ? try Self.dechunk(raw) : raw)
            }
        }

        private static func exchange(_ request: Data, port: Int) throws -> Data {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw DaemonTestError("socket: \(String(cString: strerror(errno)))") }
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw DaemonTestError("connect to port \(port): \(String(cString: strerror(errno)))") }
            var timeout = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            try request.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var sent = 0
                while sent < raw.count {
                    let count = send(socket, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                    guard count > 0 else { throw DaemonTestError("send: \(String(cString: strerror(errno)))") }
                    sent += count
                }
            }
            var response = Data()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count < 0 { throw DaemonTestError("recv: \(String(cString: strerror(errno)))") }
                if count == 0 { return response }
                response.append(contentsOf: buffer[0..<count])
            }
        }

        private static func dechunk(_ data: Data) throws -> Data {
            var body = Data()
            var rest = data[...]
            while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
                let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw DaemonTestError("bad chunk size \(sizeText)") }
                if size == 0 { break }
                let start = lineEnd.upperBound
                body.append(rest[start..<(start + size)])
                rest = rest[(start + size + 2)...]
            }
            return body
        }

        // MARK: Jobs

        /// Waits until job `id` is in one of `states` (at most 90 seconds) and returns its record.
        func waitForJob(_ id: String, in states: Set<String> = ["succeeded", "warning", "failed", "cancelled", "timed_out", "interrupted"]) async throws -> [String: Any] {
            let deadline = Date().addingTimeInterval(90)
            while true {
                let record = try await http("GET", "/api/v1/jobs/\(id)").json ?? [:]
                if let state = record["state"] as? String, states.contains(state) { return record }
                guard Date() < deadline else { throw DaemonTestError("Job \(id) did not reach \(states.sorted()) in 90 s: \(record["state"] ?? "?")\n\(setup.daemonLogsWithoutWatchdog.suffix(4_000))") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// Backs `links` up into both repositories; the new snapshot id per repository.
        func backup() async throws -> [String: String] {
            let answer = try await http("POST", "/api/v1/backups/links/backup", json: [:])
            let id = try #require((answer.json?["job"] as? [String: Any])?["id"] as? String, "\(answer.status) \(answer.text)")
            let record = try await waitForJob(id)
            #expect(record["state"] as? String == "succeeded", "\(record)")
            var ids: [String: String] = [:]
            for result in record["results"] as? [[String: Any]] ?? [] {
                if let repository = result["repository"] as? String, let snapshot = result["snapshot_id"] as? String { ids[repository] = snapshot }
            }
            try #require(Set(ids.keys) == Set(SecurityRestoreTests.repositories), "\(record)")
            return ids
        }

        /// `POST /restores`; the answer, and the job's id when one was queued.
        func restore(_ repository: String, _ snapshot: String, target: String, paths: [String]? = nil) async throws -> (Answer, String?) {
            var body: [String: Any] = ["repository": repository, "snapshot": snapshot, "target": target]
            if let paths { body["paths"] = paths }
            let answer = try await http("POST", "/api/v1/restores", json: body)
            return (answer, (answer.json?["job"] as? [String: Any])?["id"] as? String)
        }

        /// Restores and waits for the job's end; its record.
        func restored(_ repository: String, _ snapshot: String, target: String) async throws -> [String: Any] {
            let (answer, id) = try await restore(repository, snapshot, target: target)
            let job = try #require(id, "\(answer.status) \(answer.text)")
            return try await waitForJob(job)
        }

        /// What `elsewhere` holds: secret.txt and nothing a restore wrote.
        var elsewhereEntries: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: elsewhere)) ?? []).sorted()
        }

        func kind(_ path: String) -> FileAttributeType? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        }

        /// Staging directories left in a target.
        func stagingLeft(in target: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []).filter { $0.hasPrefix(".hen-restore-") }
        }
    }

    // MARK: Restores

    /// Issue 12, item 1, both reproductions, for both drivers: (a) a link that was on the disk below the
    /// target, (b) a link restored by one snapshot and a directory of the same name in the next.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: DaemonEndToEndTests.restic)))
    func aRestoreWritesOnlyBelowItsTargetWhateverLinksTheDiskAndTheSnapshotsHold() async throws {
        let fixture = try Fixture()
        defer { fixture.setup.remove() }
        let files = FileManager.default
        let link = "\(fixture.source)/data/link"
        try files.createSymbolicLink(atPath: link, withDestinationPath: fixture.elsewhere)
        let daemon = try await fixture.startDaemon()
        defer { daemon.close() }
        let withLink = try await fixture.backup()
        try files.removeItem(atPath: link)
        try files.createDirectory(atPath: link, withIntermediateDirectories: false)
        try "pwned\n".write(toFile: "\(link)/pwned.txt", atomically: true, encoding: .utf8)
        let withDirectory = try await fixture.backup()

        for repository in Self.repositories {
            // (b) The first restore puts the snapshot's link in the target; the second must not write through it.
            let two = "\(fixture.allowed)/two-\(repository)"
            let first = try await fixture.restored(repository, withLink[repository]!, target: two)
            #expect(first["state"] as? String == "succeeded", "\(repository): \(first)")
            #expect(fixture.kind(two + link) == .typeSymbolicLink, "\(repository): the first snapshot's link was not restored")
            let second = try await fixture.restored(repository, withDirectory[repository]!, target: two)
            #expect(second["state"] as? String == "succeeded", "\(repository): \(second)")
            #expect(fixture.kind(two + link) == .typeDirectory, "\(repository)")
            #expect(files.fileExists(atPath: two + link + "/pwned.txt"), "\(repository)")
            #expect(fixture.stagingLeft(in: two).isEmpty, "\(repository)")

            // (a) A link already on the disk below the target, where the snapshot's first directory goes.
            let pre = "\(fixture.allowed)/pre-\(repository)"
            try files.createDirectory(atPath: pre, withIntermediateDirectories: false)
            let top = String(fixture.source.split(separator: "/")[0])
            try files.createSymbolicLink(atPath: "\(pre)/\(top)", withDestinationPath: fixture.elsewhere)
            let third = try await fixture.restored(repository, withDirectory[repository]!, target: pre)
            #expect(third["state"] as? String == "succeeded", "\(repository): \(third)")
            #expect(fixture.kind("\(pre)/\(top)") == .typeDirectory, "\(repository): the link on the disk was followed")
            #expect(files.fileExists(atPath: pre + link + "/pwned.txt"), "\(repository)")
            #expect(fixture.stagingLeft(in: pre).isEmpty, "\(repository)")

            #expect(fixture.elsewhereEntries == ["secret.txt"], "\(repository): a restore wrote outside the allowed directory: \(fixture.elsewhereEntries)")
        }
        await fixture.stop(daemon)
    }

    /// Issue 12, item 2, both drivers: a target replaced by a link to elsewhere while its restore waits in
    /// the queue is refused when the restore starts, with one sentence, and nothing is written.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: DaemonEndToEndTests.restic)))
    func aTargetSwappedForALinkWhileTheRestoreWaitsIsRefusedWhenItStarts() async throws {
        let fixture = try Fixture()
        defer { fixture.setup.remove() }
        let files = FileManager.default
        let daemon = try await fixture.startDaemon()
        defer { daemon.close() }
        let snapshots = try await fixture.backup()

        // The gate's hook holds it running, and with max_concurrent_jobs 1 every restore waits behind it.
        let gate = try await fixture.http("POST", "/api/v1/backups/gate/backup", json: [:])
        let gateID = try #require((gate.json?["job"] as? [String: Any])?["id"] as? String, "\(gate.text)")
        _ = try await fixture.waitForJob(gateID, in: ["running"])
        var queued: [String: String] = [:]
        for repository in Self.repositories {
            let target = "\(fixture.allowed)/t6-\(repository)"
            try files.createDirectory(atPath: target, withIntermediateDirectories: false)
            let (answer, id) = try await fixture.restore(repository, snapshots[repository]!, target: target)
            #expect(answer.status == 202, "\(answer.text)")
            let job = try #require(id)
            let record = try await fixture.http("GET", "/api/v1/jobs/\(job)").json
            #expect(record?["state"] as? String == "queued")
            try files.removeItem(atPath: target)
            try files.createSymbolicLink(atPath: target, withDestinationPath: fixture.elsewhere)
            queued[repository] = job
        }
        _ = files.createFile(atPath: fixture.release, contents: nil)
        for repository in Self.repositories {
            let record = try await fixture.waitForJob(queued[repository]!)
            #expect(record["state"] as? String == "failed", "\(repository): \(record)")
            let error = record["error"] as? String ?? ""
            #expect(error.contains("is outside them") && error.contains("symbolic link"), "\(repository): \(error)")
            #expect(!error.contains("\n"), "\(repository): not one sentence: \(error)")
        }
        #expect(fixture.elsewhereEntries == ["secret.txt"], "a restore wrote through the swapped target: \(fixture.elsewhereEntries)")
        await fixture.stop(daemon)
    }

    /// Issue 12, item 4 and traversal on both drivers: targets and paths that climb, are relative, lead
    /// through a link or hold a NUL are refused with a 4xx JSON error before anything is queued; download
    /// paths likewise, plain, percent-encoded or through a link; nothing outside is read or written. Issue 12,
    /// item 9: through the daemon the CLI's restores stay below the allowed targets, in-process it restores
    /// where the administrator says.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: DaemonEndToEndTests.restic)))
    func pathsThatClimbLeadThroughALinkOrHoldANulAreRefusedOnRestoreAndDownload() async throws {
        let fixture = try Fixture()
        defer { fixture.setup.remove() }
        let files = FileManager.default
        let source = fixture.source
        try files.createSymbolicLink(atPath: "\(source)/data/link", withDestinationPath: fixture.elsewhere)
        try files.createSymbolicLink(atPath: "\(fixture.allowed)/escape", withDestinationPath: fixture.elsewhere)
        let daemon = try await fixture.startDaemon()
        defer { daemon.close() }
        let snapshots = try await fixture.backup()
        let outside = "\(fixture.directory)/outside"

        for repository in Self.repositories {
            let snapshot = snapshots[repository]!
            let badTargets = [
                "\(fixture.allowed)/../outside", "\(fixture.allowed)/a/../../outside", "allowed/relative", "/etc",
                "\(fixture.allowed)/escape", "\(fixture.allowed)/escape/deeper", "\(fixture.allowed)/a\u{0}b", "\(fixture.allowed)\u{0}/../outside",
            ]
            for target in badTargets {
                let (answer, id) = try await fixture.restore(repository, snapshot, target: target)
                #expect(answer.status == 422 && answer.error?.code == "invalid_request", "\(repository) \(target.debugDescription): \(answer.status) \(answer.text)")
                #expect(id == nil)
            }
            let badPaths = ["/../etc", "relative", "\(source)/../../../etc/passwd", "\(source)/notes\u{0}/todo.txt", "\u{0}"]
            for path in badPaths {
                let (answer, id) = try await fixture.restore(repository, snapshot, target: "\(fixture.allowed)/paths", paths: [path])
                #expect(answer.status == 422 && answer.error?.code == "invalid_request", "\(repository) \(path.debugDescription): \(answer.status) \(answer.text)")
                #expect(id == nil)
            }
            // A path that is absolute but not in the snapshot: not found, and nothing read.
            let (missing, _) = try await fixture.restore(repository, snapshot, target: "\(fixture.allowed)/paths", paths: ["/etc/passwd"])
            #expect(missing.status == 404 && missing.error?.code == "not_found", "\(repository): \(missing.text)")

            let download = "/api/v1/repositories/\(repository)/snapshots/\(snapshot)/download?path="
            let refusedDownloads: [(String, Int)] = [
                ("../../etc/passwd", 422), ("/../../etc/passwd", 422), ("\(source)/../../../etc/passwd", 422),
                ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", 422), ("%2F..%2F..%2Fetc%2Fpasswd", 422), ("%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 422),
                ("\(source)/notes/todo.txt%00.jpg", 422), ("%00", 422),
                ("/etc/passwd", 404), ("\(source)/data/link", 422), ("\(source)/data/link/secret.txt", 404),
            ]
            for (path, status) in refusedDownloads {
                let answer = try await fixture.http("GET", download + path)
                #expect(answer.status == status && answer.error != nil, "\(repository) download \(path): \(answer.status) \(answer.text)")
                #expect(!answer.text.contains("root:") && !answer.text.contains(Self.secret), "\(repository) download \(path) leaked: \(answer.text)")
            }
            // A snapshot id that climbs, in the route itself.
            for id in ["..%2F..%2F..%2Fetc", "%2e%2e", "..", snapshot + "%00"] {
                let answer = try await fixture.http("GET", "/api/v1/repositories/\(repository)/snapshots/\(id)/download?path=/")
                #expect((400..<500).contains(answer.status), "\(repository) id \(id): \(answer.status) \(answer.text.prefix(200))")
                #expect(!answer.text.contains("root:"))
            }
            // The directory holding the link downloads as a tar with the link itself, not what it leads to.
            let data = try await fixture.http("GET", download + "\(source)/data")
            #expect(data.status == 200, "\(repository): \(data.text.prefix(300))")
            #expect(data.body.range(of: Data("link".utf8)) != nil, "\(repository): the tar has no link entry")
            #expect(data.body.range(of: Data(Self.secret.utf8)) == nil, "\(repository): the download followed the link")
        }
        #expect(!files.fileExists(atPath: outside))
        #expect(!files.fileExists(atPath: "\(fixture.allowed)/paths"))
        #expect(fixture.elsewhereEntries == ["secret.txt"], "\(fixture.elsewhereEntries)")

        // Item 9: the CLI through the daemon has the API's rule; in-process it restores anywhere.
        let anywhere = "\(fixture.directory)/anywhere"
        let remote = try await CommandLineTests.hen(["restore", "restic-repo", "latest", "--target", anywhere, "--wait", "--config", fixture.setup.configPath])
        #expect(remote.status == 1, "\(remote.stdout)\(remote.stderr)")
        #expect(remote.stderr.contains("Restores may only write below"), "\(remote.stderr)")
        #expect(!files.fileExists(atPath: anywhere))
        // In-process (the daemon stopped first: one process runs jobs on a data_dir).
        await fixture.stop(daemon)
        let local = try await CommandLineTests.hen(["restore", "restic-repo", "latest", "--target", anywhere, "--local", "--config", fixture.setup.configPath])
        #expect(local.status == 0, "\(local.stdout)\(local.stderr)")
        #expect(files.fileExists(atPath: anywhere + source + "/notes/todo.txt"))
        #expect(fixture.stagingLeft(in: anywhere).isEmpty)
    }

    // MARK: Other hosts

    /// Another host's snapshots (made by an in-process CLI configured as other-host, into both repositories)
    /// are not listed, and every snapshot route answers 404 for their ids, full, prefixed or upper-case,
    /// without naming that host.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: DaemonEndToEndTests.restic)))
    func anotherHostsSnapshotsAreNotFoundOnEverySnapshotRoute() async throws {
        let fixture = try Fixture()
        defer { fixture.setup.remove() }
        let made = try await CommandLineTests.hen(["backup", "links", "--local", "--config", fixture.otherConfigPath])
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let listed = try await CommandLineTests.hen(["snapshots", "--json", "--local", "--config", fixture.otherConfigPath])
        let foreign = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []).compactMap { entry -> (String, String)? in
            guard let repository = entry["repository"] as? String, let id = entry["id"] as? String, entry["host"] as? String == "other-host" else { return nil }
            return (repository, id)
        }
        try #require(Set(foreign.map(\.0)) == Set(Self.repositories), "\(listed.stdout)\(listed.stderr)")

        let daemon = try await fixture.startDaemon()
        defer { daemon.close() }
        _ = try await fixture.backup()

        for list in ["/api/v1/snapshots", "/api/v1/snapshots?backup=links", "/api/v1/snapshots?refresh=true"] + Self.repositories.map({ "/api/v1/snapshots?repository=\($0)" }) {
            let answer = try await fixture.http("GET", list)
            #expect(answer.status == 200, "\(list): \(answer.text)")
            let items = answer.json?["items"] as? [[String: Any]] ?? []
            #expect(!items.isEmpty && items.allSatisfy { $0["host"] as? String == "e2e-host" }, "\(list): \(answer.text)")
            for (_, id) in foreign { #expect(!answer.text.contains(id), "\(list) lists \(id)") }
            #expect(!answer.text.contains("other-host"), "\(list): \(answer.text)")
        }

        for (repository, id) in foreign {
            for variant in [id, String(id.prefix(8)), id.uppercased(), String(id.prefix(8)).uppercased()] {
                let base = "/api/v1/repositories/\(repository)/snapshots/\(variant)"
                var answers: [(String, Fixture.Answer)] = []
                for (method, route) in [("GET", base), ("GET", base + "/tree?path=\(fixture.source)"), ("GET", base + "/download?path=/"), ("DELETE", base)] {
                    answers.append(("\(method) \(route)", try await fixture.http(method, route)))
                }
                let (restore, job) = try await fixture.restore(repository, variant, target: "\(fixture.allowed)/foreign", paths: nil)
                answers.append(("POST /restores \(variant)", restore))
                #expect(job == nil)
                for (what, answer) in answers {
                    #expect(answer.status == 404 && answer.error?.code == "not_found", "\(what): \(answer.status) \(answer.text.prefix(300))")
                    #expect(!answer.text.contains("other-host"), "\(what): \(answer.text.prefix(300))")
                    if variant.count < 64 { #expect(!answer.text.lowercased().contains(id), "\(what) leaks the full id") }
                    #expect(!answer.text.contains("buy eggs"), "\(what) returned the other host's file")
                }
            }
        }
        // Nothing was forgotten or restored: the other host's snapshots are all still there.
        let after = try await CommandLineTests.hen(["snapshots", "--json", "--local", "--config", fixture.otherConfigPath])
        for (_, id) in foreign { #expect(after.stdout.contains(id)) }
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.allowed)/foreign"))
        let jobs = try await fixture.http("GET", "/api/v1/jobs").text
        #expect(!jobs.contains("\"forget\"") && !jobs.contains("\"restore\""), "\(jobs.prefix(500))")
        await fixture.stop(daemon)
    }
}
