import Foundation
@testable import HenDrivers
import HenProcess
import Testing

@Suite("ResticDriver parsing")
struct ResticParsingTests {
    @Test func splitterYieldsObjectsAsTheyComplete() throws {
        let text = #"[{"id":"a","tags":["x,y","}{"],"s":"quote \" and \\ and ]"},{"id":"b","nested":{"k":[1,{"z":2}]}} , {"id":"c"}]"#
        let bytes = Array(text.utf8)
        // Every split point, including inside strings and escapes, gives the same objects.
        for cut in 0...bytes.count {
            var splitter = JSONArraySplitter()
            let objects = try splitter.feed(bytes[..<cut]) + splitter.feed(bytes[cut...])
            let ids = try objects.map { try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }.map { $0?["id"] as? String }
            #expect(ids == ["a", "b", "c"])
            #expect(splitter.isComplete)
        }
        // The first object is handed out before the array is finished.
        var splitter = JSONArraySplitter()
        #expect(try splitter.feed(Array(#"[{"id":"a"},{"id""#.utf8)).count == 1)
        #expect(!splitter.isComplete)
    }

    @Test func splitterAcceptsEmptyAndNullAndRejectsOthers() throws {
        for text in ["[]", " [ ] \n", "null", "null\n"] {
            var splitter = JSONArraySplitter()
            #expect(try splitter.feed(Array(text.utf8)).isEmpty)
            #expect(splitter.isComplete)
        }
        var object = JSONArraySplitter()
        #expect(throws: JSONArraySplitter.Failure.notAnArray) { try object.feed(Array(#"{"a":1}"#.utf8)) }
        var trailing = JSONArraySplitter()
        #expect(throws: JSONArraySplitter.Failure.trailingData) { try trailing.feed(Array("[] x".utf8)) }
    }

    /// The node reader used while indexing answers what JSONDecoder answers, or leaves the line to it.
    @Test func nodeLinesReadAsJSONDecoderReadsThem() throws {
        let typical = [
            // restic 0.14's layout, a file, a directory, a symlink.
            #"{"name":"a.txt","type":"file","path":"/d/a.txt","uid":0,"gid":0,"size":1234,"mode":420,"permissions":"-rw-r--r--","mtime":"2026-11-28T04:21:19.576655299Z","atime":"2026-11-28T04:21:19.576655299Z","ctime":"2026-11-28T04:21:19.576655299+01:00","struct_type":"node"}"#,
            #"{"name":"d","type":"dir","path":"/d","uid":0,"gid":0,"mode":2147484141,"permissions":"drwxr-xr-x","mtime":"2026-11-28T04:21:19Z","atime":"2026-11-28T04:21:19Z","ctime":"2026-11-28T04:21:19Z","struct_type":"node"}"#,
            #"{"name":"l","type":"symlink","path":"/d/l","linktarget":"../x y","mode":134218239,"mtime":"2026-11-28T04:21:19Z","struct_type":"node"}"#,
            // Escapes, non-ASCII, a surrogate pair, spaces, nulls, nested values and keys of later versions.
            #"{ "name" : "q\"b\\\/\n\t\u00e9\ud83d\ude00é" , "type":"file", "path":"/\u0000x", "size": null, "mtime": null, "extended_attributes":[{"name":"user.x","value":"eA=="}], "device_id": 12, "links": 1e0, "inode":true, "message_type":"node" }"#,
            #"{"name":"s","type":"file","path":"/s","size":0,"mode":0,"struct_type":"snapshot"}"#,
        ]
        let odd = [
            #"{"name":"a","type":"file","path":"/a","size":1.5}"#,
            #"{"name":"a","type":"file","path":"/a","size":-1}"#,
            #"{"name":"a","type":"file","path":"/a","size":01}"#,
            #"{"name":"a","type":"file","path":"/a","size":"1"}"#,
            #"{"name":"a","type":"file","path":"/a","mtime":"yesterday"}"#,
            #"{"name":"a","type":"file"}"#,
            #"{"name":"a","type":"file","path":"/a"} x"#,
            #"{"name":"a","type":"file","path":"/a""#,
            #"{"name":"\ud83d","type":"file","path":"/a"}"#,
            #"{"name":"a","type":"file","path":"/a","structType":"snapshot"}"#,
            #"{"name":"a","type":"file","path":"/a","_size":5}"#,
            #"{"na\u006de":"a","type":"file","path":"/a"}"#,
            #"{"name":"a","type":"file","path":"/a","x":[1,{"y":}]}"#,
            "{\"name\":\"a\tb\",\"type\":\"file\",\"path\":\"/a\"}",
            "[]", "", "null",
        ]
        let decoder = ResticJSON.decoder()
        for line in typical + odd {
            let expected = try? decoder.decode(ResticNode.self, from: Data(line.utf8))
            if let node = ResticNodeLine.parse(line) {
                #expect(node == expected, "\(line)")
            }
        }
        // The lines restic writes never need JSONDecoder.
        for line in typical { #expect(ResticNodeLine.parse(line) != nil, "\(line)") }
        let escaped = try #require(ResticNodeLine.parse(typical[3]))
        #expect(escaped.name == "q\"b\\/\n\té😀é")
        #expect(escaped.path == "/\u{0}x")
        #expect(escaped.size == nil && escaped.mtime == nil)
    }

    @Test func rfc3339WithNanosecondsAndOffsets() throws {
        let utc = try #require(RFC3339.date(from: "2026-11-28T04:21:19.576655299Z"))
        #expect(abs(utc.timeIntervalSince1970 - 1_795_839_679.576655299) < 0.000_01)
        let offset = try #require(RFC3339.date(from: "2026-11-28T05:21:19.5+01:00"))
        #expect(abs(offset.timeIntervalSince1970 - 1_795_839_679.5) < 0.000_01)
        #expect(RFC3339.date(from: "1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        #expect(RFC3339.date(from: "2000-02-29T12:00:00-05:30")?.timeIntervalSince1970 == 951_845_400)
        #expect(RFC3339.date(from: "2026-13-01T00:00:00Z") == nil)
        #expect(RFC3339.date(from: "yesterday") == nil)
    }

    @Test func goFileModesBecomePermissionBits() {
        #expect(GoFileMode.permissionBits(2_147_484_141) == 0o755) // directory (1<<31) | 0755
        #expect(GoFileMode.permissionBits(134_218_239) == 0o777) // symlink (1<<27) | 0777
        #expect(GoFileMode.permissionBits(420) == 0o644)
        #expect(GoFileMode.permissionBits((1 << 23) | 0o755) == 0o4755) // setuid
        #expect(GoFileMode.permissionBits((1 << 31) | (1 << 20) | 0o777) == 0o1777) // sticky directory
    }

    @Test func versionsAndFeatures() throws {
        let floor = try #require(ResticVersion(versionOutput: "restic 0.14.0 compiled with go1.19.8 on linux/amd64"))
        #expect(floor == .floor)
        #expect(!floor.supportsRetryLock && !floor.hasDistinctExitCodes)
        let dev = try #require(ResticVersion(versionOutput: "restic 0.16.4-dev (compiled manually) compiled with go1.21 on linux/amd64"))
        #expect(dev.supportsRetryLock && !dev.hasDistinctExitCodes)
        #expect(ResticVersion(versionOutput: "restic v0.17.1 compiled with go1.22")?.hasDistinctExitCodes == true)
        #expect(ResticVersion(versionOutput: "something else") == nil)
    }

    @Test func backupMessagesOfOldAndNewRestic() throws {
        let old = try #require(ResticMessage.decode(#"{"message_type":"error","error":{"Op":"read","Path":"/proc/self/mem","Err":5},"during":"archival","item":"/proc/self/mem"}"#))
        #expect(old.errorText == "/proc/self/mem: read: input/output error")
        let new = try #require(ResticMessage.decode(#"{"message_type":"error","error":{"message":"open /x: permission denied"},"during":"archival","item":"/x"}"#))
        #expect(new.errorText == "/x: open /x: permission denied")
        let status = try #require(ResticMessage.decode(#"{"message_type":"status","seconds_elapsed":2,"percent_done":0.5,"total_files":4,"files_done":2,"total_bytes":100,"bytes_done":50,"current_files":["/a"]}"#))
        #expect(status.percentDone == 0.5 && status.secondsElapsed == 2 && status.currentFiles == ["/a"])
        #expect(ResticMessage.decode("snapshot 1234 saved") == nil)
    }

    func classify(_ stderr: [String], exit: Int32 = 1, version: ResticVersion = .floor) throws -> DriverError {
        let driver = try ResticDriver(
            repository: RepositoryTarget(name: "aws", location: "rest:https://user:s3cr3tpass@backup.example/repo", passwordFile: "/etc/hen/pw"),
            context: DriverContext(hostname: "h")
        )
        return driver.classify(ChildProcessResult(exitCode: exit, signal: nil, wasInterrupted: false, stderrTail: stderr), operation: "backup", version: version)
    }

    @Test func errorsOfRestic014AreRecognisedByTheirWords() throws {
        #expect(try classify(["Fatal: wrong password or no key found"]).message == "Repository \"aws\": wrong password (check password_file).")
        let missing = try classify(["Fatal: unable to open config file: stat /r/config: no such file or directory", "Is there a repository at the following location?", "/r"])
        #expect(missing.code == .repositoryMissing)
        // The password inside the location is not repeated in the message.
        #expect(missing.message.contains("rest:https://user:***@backup.example/repo"))
        #expect(!missing.message.contains("s3cr3tpass"))
        #expect(try classify(["unable to create lock in backend: repository is already locked by PID 1 on vm by root"]).code == .repositoryLocked)
        let unreachable = try classify(["Fatal: unable to open config file: Head \"http://127.0.0.1:1/config\": dial tcp 127.0.0.1:1: connect: connection refused", "Is there a repository at the following location?"])
        #expect(unreachable.code == .backendUnreachable)
        #expect(try classify(["Fatal: unable to open config file: dial tcp: lookup nowhere.invalid: no such host"]).code == .backendUnreachable)
        let other = try classify(["some noise", "Fatal: unable to save snapshot: disk full"])
        #expect(other.code == .failed)
        #expect(other.message == "Repository \"aws\": restic backup failed: unable to save snapshot: disk full")
        #expect(other.detail == "some noise\nFatal: unable to save snapshot: disk full")
    }

    @Test func exitCodesOfNewerResticAreTrusted() throws {
        let newer = ResticVersion(major: 0, minor: 17, patch: 3)
        #expect(try classify(["Fatal: whatever"], exit: 10, version: newer).code == .repositoryMissing)
        #expect(try classify(["Fatal: whatever"], exit: 11, version: newer).code == .repositoryLocked)
        #expect(try classify(["Fatal: whatever"], exit: 12, version: newer).code == .wrongPassword)
        // 0.14 knows no such codes: its words decide.
        #expect(try classify(["Fatal: whatever"], exit: 12).code == .failed)
    }

    @Test func readDataSubsetNotation() {
        for valid in ["5%", "2.5%", "100%", "1/10", "3/3", "500M", "2G", "1024"] { #expect(ResticDriver.isReadDataSubset(valid), "\(valid)") }
        for invalid in ["0%", "101%", "lots", "0/3", "4/3", "5X", "", "-1"] { #expect(!ResticDriver.isReadDataSubset(invalid), "\(invalid)") }
    }

    @Test func snapshotReferencesCannotBeOptions() {
        #expect(ResticDriver.isSnapshotReference("latest"))
        #expect(ResticDriver.isSnapshotReference("9d96fb08"))
        #expect(!ResticDriver.isSnapshotReference("--remove-all"))
        #expect(!ResticDriver.isSnapshotReference("abc"))
        #expect(!ResticDriver.isSnapshotReference("../x"))
    }
}

extension ResticParsingTests {
    @Test func jsonExitErrorsOfNewerResticAreRead() throws {
        let error = try classify([#"{"message_type":"exit_error","code":1,"message":"Fatal: unable to save snapshot: disk full"}"#], version: ResticVersion(major: 0, minor: 17, patch: 0))
        #expect(error.message == "Repository \"aws\": restic backup failed: unable to save snapshot: disk full")
        #expect(error.detail == "Fatal: unable to save snapshot: disk full")
    }
}
