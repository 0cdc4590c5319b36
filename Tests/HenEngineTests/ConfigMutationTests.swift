import Foundation
import HenTestSupport
import Testing
@testable import HenEngine

/// 2,000 configurations mutated from `config.example.yml` by a seeded mutator (wrong types, unknown keys,
/// bad units and crons, huge numbers, invalid UTF-8, duplicate keys, anchors and aliases, lines commented
/// in or cut): the loader never crashes, and every refusal points at `file:line:column` inside the file.
@Suite struct ConfigMutationTests {
    static let cases = 2_000
    static let seed: UInt64 = 18

    static var example: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("config.example.yml"), encoding: .utf8)
        }
    }

    /// Replacement values that are wrong somewhere: types, units, crons, sizes, numbers.
    static let values = [
        "-1", "0", "99999999999999999999999", "1e308", "true", "null", "~", "[]", "{}", "[1, 2", "{a: 1", "\"\"", "5x", "1h30", "1.5.5",
        "\"0 0 30 2 *\"", "\"61 * * * *\"", "\"* * * * * * *\"", "\"@never\"", "10Q", "-5M", "5%%", "110%", "0/0", "nan", "'unterminated",
        "*alias", "&anchor value", "!!binary aGVu", "!custom tag", "[[[[[[[[[[]]]]]]]]]]", String(repeating: "9", count: 400), "\"\\u0000\"", "|\n  block",
    ]
    static let keys = ["bogus", "schedule", "path", "retention", "keep_last", "driver", "<<", "? complex", "backups", "max_concurrent_jobs", "retry"]

    static func mutate(_ text: String, using random: inout SeededRandom) -> [UInt8] {
        var lines = text.components(separatedBy: "\n")
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let index = Int.random(in: 0..<lines.count, using: &random)
            let line = lines[index]
            let indent = String(line.prefix { $0 == " " })
            switch Int.random(in: 0..<11, using: &random) {
            case 0:  // comment a line in: the documented keys become active, often in the wrong place
                if let hash = line.firstIndex(of: "#") {
                    var rest = line[line.index(after: hash)...]
                    if rest.first == " " { rest = rest.dropFirst() }
                    lines[index] = String(line[..<hash]) + rest
                }
            case 1:  // a wrong value
                if let colon = line.firstIndex(of: ":") { lines[index] = String(line[...colon]) + " " + values.randomElement(using: &random)! }
            case 2:  // an unknown or misplaced key
                lines.insert(indent + keys.randomElement(using: &random)! + ": " + values.randomElement(using: &random)!, at: index)
            case 3:  // a duplicate key
                lines.insert(line, at: index)
            case 4:  // a line cut
                lines.remove(at: index)
                if lines.isEmpty { lines = [""] }
            case 5:  // indentation broken
                lines[index] = String(repeating: " ", count: Int.random(in: 0...7, using: &random)) + line.drop { $0 == " " }
            case 6:  // an anchor and an alias (and a merge key)
                if let colon = line.firstIndex(of: ":") {
                    lines[index] = String(line[...colon]) + " &a" + String(line[line.index(after: colon)...])
                    lines.insert(indent + "<<: *a", at: min(lines.count, index + 1))
                }
            case 7:  // an alias to nothing, or a self-referencing one
                lines.insert(indent + "x: *nowhere", at: index)
            case 8:  // a huge or odd number somewhere digits are
                if let range = line.range(of: #"\d+"#, options: .regularExpression) {
                    lines[index] = line.replacingCharacters(in: range, with: ["0", "-0", "18446744073709551616", "1e9999", "0x1F", "1_000"].randomElement(using: &random)!)
                }
            case 9:  // tabs and control characters
                lines[index] = line.replacingOccurrences(of: "  ", with: "\t") + ["", "\u{7}", "\u{FEFF}", "\u{202E}"].randomElement(using: &random)!
            default:  // a character replaced
                if !line.isEmpty {
                    var characters = Array(line)
                    let specials: [Character] = [":", "-", "[", "{", "\"", "'", "&", "*", "!", "|", ">", "%", "@", "`"]
                    characters[Int.random(in: 0..<characters.count, using: &random)] = specials.randomElement(using: &random)!
                    lines[index] = String(characters)
                }
            }
        }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        // Invalid UTF-8 in one case of ten.
        if Int.random(in: 0..<10, using: &random) == 0, !bytes.isEmpty {
            bytes.insert([0xC3, 0x28, 0xFF, 0xFE, 0xED, 0xA0, 0x80].randomElement(using: &random)!, at: Int.random(in: 0..<bytes.count, using: &random))
        }
        return bytes
    }

    /// 2,000 loads take a minute of CPU under load: they run on a thread of their own, off Swift's
    /// cooperative pool (two threads here), which the other tests running beside this one need.
    @Test func mutatedConfigurationsNeverCrashTheLoaderAndAlwaysSayWhere() async throws {
        let directory = try ConfigTempDirectory()
        try directory.makeDirectory("demo-data")
        try directory.write(".hen/password", "mutation test password\n")
        let loader = directory.loader()
        let base = try Self.example
        let path = directory.file("config.yml")
        try base.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try loader.load(path: path)  // the example itself loads

        let (refused, loaded, issues, problems) = try await offPool { () throws -> (Int, Int, Int, [String]) in
            var random = SeededRandom(seed: Self.seed)
            var refused = 0
            var loaded = 0
            var issues = 0
            var problems: [String] = []
            for number in 0..<Self.cases {
                let bytes = Self.mutate(base, using: &random)
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let lineCount = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
                do {
                    _ = try loader.load(path: path)
                    loaded += 1
                } catch let error as ConfigurationError {
                    refused += 1
                    issues += error.issues.count
                    if error.issues.isEmpty { problems.append("case \(number): refused without an issue") }
                    for issue in error.issues {
                        let placed = issue.file == path && issue.line >= 1 && issue.line <= lineCount + 1 && issue.column >= 1
                        if !placed { problems.append("case \(number): \(issue) is not at a place in the file (\(lineCount) lines)\n\(String(decoding: bytes, as: UTF8.self))") }
                        if !issue.description.hasPrefix("\(path):\(issue.line):\(issue.column): ") { problems.append("case \(number): \(issue.description) does not start with its place") }
                        if issue.message.isEmpty { problems.append("case \(number): an issue without a message") }
                    }
                }
            }
            return (refused, loaded, issues, problems)
        }
        #expect(problems.isEmpty, "\(problems.prefix(5).joined(separator: "\n"))")
        print("config mutations: \(Self.cases) cases (seed \(Self.seed)), \(refused) refused with \(issues) issues, \(loaded) loaded")
        #expect(refused > Self.cases / 2)
    }
}
