import Foundation

/// Why a job was queued.
public enum JobTrigger: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A schedule came due; the text says which (`every 1h`, `cron "0 30 2 * * *"`).
    case schedule(String)
    /// Files changed below these paths (`count` changes seen).
    case watch(paths: [String], count: Int)
    case api
    case cli
    case ui
    /// Queued by the daemon at start (an unlock after a crash, say).
    case startup

    public var kind: String {
        switch self {
        case .schedule: "schedule"
        case .watch: "watch"
        case .api: "api"
        case .cli: "cli"
        case .ui: "ui"
        case .startup: "startup"
        }
    }

    public var description: String {
        switch self {
        case .schedule(let text): "schedule (\(text))"
        case .watch(let paths, let count): "watch (\(count) change\(count == 1 ? "" : "s") in \(paths.joined(separator: ", ")))"
        default: kind
        }
    }

    // JSON: {"kind": "schedule", "schedule": "every 1h"}, {"kind": "watch", "paths": [...], "count": 3}, {"kind": "cli"}.
    // Written by hand: one flat object with a `kind`, where synthesized coding would nest each case's values.
    private enum CodingKeys: String, CodingKey {
        case kind, schedule, paths, count
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "schedule": self = .schedule(try container.decode(String.self, forKey: .schedule))
        case "watch":
            self = .watch(paths: try container.decode([String].self, forKey: .paths), count: try container.decode(Int.self, forKey: .count))
        case "api": self = .api
        case "cli": self = .cli
        case "ui": self = .ui
        case "startup": self = .startup
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown trigger \(kind)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .schedule(let text): try container.encode(text, forKey: .schedule)
        case .watch(let paths, let count):
            try container.encode(paths, forKey: .paths)
            try container.encode(count, forKey: .count)
        default: break
        }
    }
}
