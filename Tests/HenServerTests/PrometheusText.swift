import Foundation

/// A small parser of the Prometheus text exposition format (0.0.4), enough to read back what `/metrics`
/// serves: `# TYPE` lines, samples with escaped label values, and float values (`+Inf`, `NaN`).
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var reason: String
        var description: String { "\(reason): \(line)" }
    }

    var samples: [Sample] = []
    /// Metric family → type (`counter`, `gauge`, `histogram`…).
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                if parts.count == 4, parts[1] == "TYPE" { types[parts[2]] = parts[3] }
                continue
            }
            samples.append(try Self.sample(line))
        }
    }

    /// The value of the one sample with this name whose labels include `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) throws -> Double? {
        let matching = samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }
        guard matching.count <= 1 else { throw ParseError(line: name, reason: "\(matching.count) samples match \(labels)") }
        return matching.first?.value
    }

    private static func sample(_ line: String) throws -> Sample {
        var index = line.startIndex
        func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == ":" }
        while index < line.endIndex, isNameCharacter(line[index]) { index = line.index(after: index) }
        let name = String(line[..<index])
        guard !name.isEmpty, !(name.first!.isNumber) else { throw ParseError(line: line, reason: "no metric name") }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while true {
                guard index < line.endIndex else { throw ParseError(line: line, reason: "unterminated labels") }
                if line[index] == "}" { index = line.index(after: index); break }
                if line[index] == "," { index = line.index(after: index); continue }
                let keyStart = index
                while index < line.endIndex, isNameCharacter(line[index]) { index = line.index(after: index) }
                let key = String(line[keyStart..<index])
                guard !key.isEmpty, index < line.endIndex, line[index] == "=" else { throw ParseError(line: line, reason: "bad label name") }
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { throw ParseError(line: line, reason: "label value not quoted") }
                index = line.index(after: index)
                var value = ""
                while true {
                    guard index < line.endIndex else { throw ParseError(line: line, reason: "unterminated label value") }
                    let c = line[index]
                    index = line.index(after: index)
                    if c == "\"" { break }
                    if c == "\\" {
                        guard index < line.endIndex else { throw ParseError(line: line, reason: "dangling escape") }
                        let escaped = line[index]
                        index = line.index(after: index)
                        switch escaped {
                        case "n": value.append("\n")
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        default: throw ParseError(line: line, reason: "unknown escape \\\(escaped)")
                        }
                    } else {
                        value.append(c)
                    }
                }
                guard labels[key] == nil else { throw ParseError(line: line, reason: "label \(key) twice") }
                labels[key] = value
            }
        }
        let rest = line[index...].split(separator: " ", omittingEmptySubsequences: true)
        guard rest.count == 1 || rest.count == 2 else { throw ParseError(line: line, reason: "expected a value and an optional timestamp") }
        let text = String(rest[0])
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(text) else { throw ParseError(line: line, reason: "value \(text) is not a number") }
            value = parsed
        }
        return Sample(name: name, labels: labels, value: value)
    }
}
