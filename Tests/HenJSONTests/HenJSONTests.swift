import Foundation
@testable import HenJSON
import Testing

struct HenJSONTests {
    struct Inner: Codable, Equatable {
        var exitCode: Int32?
        var httpStatus: Int?
    }

    struct Sample: Codable, Equatable {
        var snapshotID: String?
        var jobID: String
        var snapshotIDs: [String]
        var startedAt: Date
        var endedAt: Date?
        var byName: [String: Int]
        var inner: Inner
        var inners: [Inner?]
        var fraction: Double?
        var big: UInt64
    }

    enum Operation: Codable, Equatable {
        case check(repository: String, readDataSubset: String?)
    }

    static let date = Date(timeIntervalSince1970: 1_795_839_210)  // 2026-11-28T04:13:30Z

    @Test func keysAreSnakeCaseAbsentValuesNullAndDatesRFC3339() throws {
        let sample = Sample(
            snapshotID: nil, jobID: "j1", snapshotIDs: ["a"], startedAt: Self.date, endedAt: nil,
            byName: ["myBackup": 1, "AWS_ACCESS_KEY_ID": 2], inner: Inner(exitCode: 3, httpStatus: nil), inners: [nil, Inner()],
            fraction: 0.25, big: UInt64.max
        )
        let text = try HenJSON.encoder().string(sample)
        #expect(text == #"{"big":18446744073709551615,"by_name":{"AWS_ACCESS_KEY_ID":2,"myBackup":1},"ended_at":null,"fraction":0.25,"#
            + #""inner":{"exit_code":3,"http_status":null},"inners":[null,{"exit_code":null,"http_status":null}],"job_id":"j1","#
            + #""snapshot_id":null,"snapshot_ids":["a"],"started_at":"2026-11-28T04:13:30Z"}"#)
        #expect(try HenJSON.decoder().decode(Sample.self, from: Data(text.utf8)) == sample)
    }

    @Test func datesReadAsFoundationWritesThem() throws {
        let foundation = JSONEncoder()
        foundation.dateEncodingStrategy = .iso8601
        #expect(try HenJSON.encoder().encode([Self.date]) == foundation.encode([Self.date]))
    }

    @Test func enumArgumentsFollowTheConvention() throws {
        let text = try HenJSON.encoder().string(Operation.check(repository: "usb", readDataSubset: nil))
        #expect(text == #"{"check":{"read_data_subset":null,"repository":"usb"}}"#)
        #expect(try HenJSON.decoder().decode(Operation.self, from: Data(#"{"check":{"repository":"usb","read_data_subset":"5%"}}"#.utf8)) == .check(repository: "usb", readDataSubset: "5%"))
    }

    /// What the job store's JSON columns held before the convention: camelCase keys (Foundation's synthesized
    /// ones), omitted optionals, dates as seconds since 1970; and what they hold now.
    @Test func olderSpellingsStillRead() throws {
        let old = #"{"jobID":"j1","snapshotIDs":[],"startedAt":1795839210.5,"byName":{},"inner":{"exitCode":1},"inners":[],"big":1}"#
        let sample = try HenJSON.decoder().decode(Sample.self, from: Data(old.utf8))
        #expect(sample.startedAt == Self.date.addingTimeInterval(0.5))
        #expect(sample.inner.exitCode == 1)
        #expect(sample.snapshotID == nil)
        let stored = try HenJSON.encoder(dates: .secondsSince1970).encode(sample)
        #expect(try HenJSON.decoder().decode(Sample.self, from: stored) == sample)
        let fractional = #"{"job_id":"j1","snapshot_ids":[],"started_at":"2026-11-28T04:13:30.500Z","by_name":{},"inner":{},"inners":[],"big":1}"#
        #expect(try HenJSON.decoder().decode(Sample.self, from: Data(fractional.utf8)).startedAt == Self.date.addingTimeInterval(0.5))
    }

    @Test func keyConversions() {
        let pairs = [
            ("startedAt", "started_at"), ("snapshotID", "snapshot_id"), ("snapshotIDs", "snapshot_ids"), ("shortID", "short_id"),
            ("id", "id"), ("httpStatus", "http_status"), ("maxConcurrentJobs", "max_concurrent_jobs"), ("baseURL", "base_url"),
        ]
        for (swift, key) in pairs {
            #expect(HenJSON.snakeCase(swift) == key)
            #expect(HenJSON.camelCase(key) == swift)
        }
        #expect(HenJSON.snakeCase("myURLProperty") == "my_url_property")
        #expect(HenJSON.snakeCase("read_data_subset") == "read_data_subset")
    }

    /// The byte-wise conversions every encoded and decoded key goes through agree with the character-wise
    /// rules, on the keys above and on random ASCII keys (fixed seed) of letters, digits, `_` and `s`.
    @Test func asciiKeyConversionsAgreeWithTheCharacterRules() {
        var generator = SplitMix(seed: 15)
        let alphabet = Array("aAbBsSIiDdUuRrLl0_9_xXsSZz")
        var keys = ["", "_", "__a", "a__b", "IDs", "snapshotIDs", "URLs", "aURLs", "HTTPServer", "x_id_ids_url_urls_", "s3Bucket", "fileID2", "Ab_cD"]
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 12)
            keys.append(String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
        }
        for key in keys {
            #expect(HenJSON.asciiSnakeCase(key) == HenJSON.characterSnakeCase(key), "snakeCase(\(key))")
            #expect(HenJSON.asciiCamelCase(key) == HenJSON.characterCamelCase(key), "camelCase(\(key))")
        }
        // Other characters take the character-wise way.
        #expect(HenJSON.asciiSnakeCase("größeÄnderung") == nil)
        #expect(HenJSON.snakeCase("größeÄnderung") == "größe_änderung")
        #expect(HenJSON.camelCase("größe_änderung") == "größeÄnderung")
    }

    /// The compact printer writes every tree byte for byte as JSONEncoder prints it (sorted keys, slashes
    /// unescaped): escapes, key order of any UTF-8, numbers of every kind, nesting.
    @Test func compactPrintingMatchesJSONEncoder() throws {
        let printer = JSONEncoder()
        printer.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func same(_ tree: Tree, _ label: String) throws {
            let ours = try #require(tree.compactJSON(), "\(label)")
            let theirs = try printer.encode(tree)
            #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self), "\(label)")
        }
        var generator = SplitMix(seed: 16)
        let controls = String(decoding: (0..<0x20).map { UInt8($0) } + Array("\"\\/ é € 😀 \u{7f}".utf8), as: UTF8.self)
        var strings = ["", "plain", controls, "a/b\\c\"d", "\u{2028}\u{2029}", "tab\there"]
        for _ in 0..<200 {
            strings.append(String(decoding: (0..<Int(generator.next() % 10)).map { _ in UInt8(generator.next() % 0x80) }, as: UTF8.self))
        }
        var doubles: [Double] = [0, -0.0, 1, -1, 1.5, 0.1, 1e20, 1e21, 1e-7, 123_456_789.125, .pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1_795_839_210.5, 2e15, 9_007_199_254_740_992, 4_503_599_627_370_497]
        for _ in 0..<500 {
            doubles.append(Double(bitPattern: generator.next()))
            doubles.append(Double(Int64(bitPattern: generator.next()) % 1_000_000_000) / 1000)
        }
        for value in doubles where value.isFinite { try same(.double(value), "double \(value)") }
        for value in [Float(0), 0.1, 1.5, 3e38, -2, .leastNonzeroMagnitude] { try same(.float(value), "float \(value)") }
        for value in [Int64.min, -1, 0, 42, .max] { try same(.int(value), "int \(value)") }
        for value in [UInt64.min, 7, .max] { try same(.uint(value), "uint \(value)") }
        for (index, text) in strings.enumerated() { try same(.string(text), "string \(index)") }
        // Objects: keys that sort differently by bytes, by characters and by case, and nesting.
        let object = Tree.ObjectBox()
        for (index, key) in (["b", "a", "B", "_", "a_b", "aB", "a10", "a2", "é", "e", "Z", "😀", "", "\u{1}"] + strings.prefix(40)).enumerated() {
            object.members[key] = index % 3 == 0 ? .null : index % 3 == 1 ? .string(key) : .double(doubles[index])
        }
        let array = Tree.ArrayBox()
        array.items = [.object(object), .array(Tree.ArrayBox()), .object(Tree.ObjectBox()), .bool(true), .bool(false), .null]
        let outer = Tree.ObjectBox()
        outer.members = ["items": .array(array), "inner": .object(object)]
        try same(.object(outer), "nested")
        try same(.array(Tree.ArrayBox()), "empty array")
        // A number JSON cannot hold: left to JSONEncoder, which refuses it.
        #expect(Tree.double(.nan).compactJSON() == nil)
        #expect(throws: EncodingError.self) { try HenJSON.encoder().encode([Double.infinity]) }
        // A whole value through the convention prints as JSONEncoder printed it before.
        let sample = Sample(snapshotID: nil, jobID: "j/1", snapshotIDs: ["a", "b"], startedAt: Self.date, endedAt: nil, byName: ["Zed": 1, "alpha": 2], inner: Inner(exitCode: 3, httpStatus: nil), inners: [nil, Inner(exitCode: nil, httpStatus: 200)], fraction: 0.25, big: .max)
        let tree = try TreeEncoder(dates: .rfc3339, codingPath: []).tree(sample, at: [])
        #expect(try HenJSON.encoder().encode(sample) == (try printer.encode(tree)))
    }

    /// A small seeded generator (SplitMix64): the same keys on every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Free: Encodable {
        struct Key: VerbatimCodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: Key(stringValue: "HEN_TOKEN"))
            try container.encode(2, forKey: Key(stringValue: "camelName"))
        }
    }

    @Test func verbatimKeysStay() throws {
        #expect(try HenJSON.encoder().string(Free()) == #"{"HEN_TOKEN":1,"camelName":2}"#)
    }
}
