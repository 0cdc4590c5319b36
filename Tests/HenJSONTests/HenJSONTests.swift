import Foundation
import HenJSON
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
