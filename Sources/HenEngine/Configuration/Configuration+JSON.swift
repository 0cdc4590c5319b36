import Foundation
import HenJSON
import Yams

/// A JSON value that keeps the order of object keys: the configuration as the API shows it.
public indirect enum JSONValue: Sendable, Hashable, Encodable {
    case string(String)
    case number(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let value): hasher.combine(value)
        case .number(let value): hasher.combine(value)
        case .bool(let value): hasher.combine(value)
        case .null: hasher.combine(0)
        case .array(let values): hasher.combine(values)
        case .object(let pairs):
            for (key, value) in pairs {
                hasher.combine(key)
                hasher.combine(value)
            }
        }
    }

    /// An object's keys are the configuration's own (`password_file`, an `env:` variable's name): kept as they are.
    private struct Key: VerbatimCodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    // Written by hand: each case is a bare JSON value, not a synthesized `{"string": {"_0": …}}`.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let pairs):
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in pairs { try container.encode(value, forKey: Key(stringValue: key)) }
        }
    }

    /// A rendered YAML node: mappings become objects, sequences arrays, `true`/`false` and whole numbers
    /// their JSON types, everything else a string (`1h`, `5M`, `***`).
    init(_ node: Yams.Node) {
        switch node {
        case .mapping(let mapping):
            self = .object(mapping.map { (key, value) in (key.string ?? "", JSONValue(value)) })
        case .sequence(let sequence):
            self = .array(sequence.map(JSONValue.init))
        case .scalar(let scalar):
            if scalar.string == "true" { self = .bool(true) } else if scalar.string == "false" { self = .bool(false) } else if let number = Int(scalar.string) {
                self = .number(number)
            } else {
                self = .string(scalar.string)
            }
        case .alias:
            self = .null
        }
    }
}

extension Configuration {
    /// A backup's definition as JSON, with the same redaction as ``redactedYAML()``: no secret in it.
    public func redactedJSON(backup: Backup) -> JSONValue {
        JSONValue(backupNode(backup))
    }

    /// A repository's definition as JSON: location credentials hidden, password and `env` values `***`.
    public func redactedJSON(repository: Repository) -> JSONValue {
        JSONValue(Self.repositoryNode(repository, inline: false))
    }
}
