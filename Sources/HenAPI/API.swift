import Foundation
import HenEngine

/// The HTTP API's wire types: every request body a route reads and every answer it writes, shared by
/// HenServer (which encodes answers and decodes requests) and the CLI's daemon client (the reverse), so the
/// two cannot drift apart. Each is named after its schema in `HenServer/Resources/openapi.json`
/// (`API.Status` is `#/components/schemas/Status`); `Tests/HenServerTests/OpenAPIWireTests.swift` encodes a
/// sample of each and checks it against that schema.
///
/// Answers that are the engine's own records use the engine's types as they are (`JobRecord` is the `Job`
/// schema, `PlannedRun`, `WatchStatus`, `ReloadResult`, `JobEvent`): one type, whether stored, printed or sent.
///
/// All of them follow ``HenJSON``'s convention (snake_case keys, explicit nulls, RFC 3339 dates) through
/// synthesized `Codable`: declare the properties in Swift's spelling and nothing else.
///
/// To add a wire type: declare it here (in the `API+<Area>.swift` of its routes) as a plain `Codable` struct,
/// with an `init` from the engine's types when the server builds it; use it in the route and, if the CLI
/// calls that route, in the CLI; describe it in openapi.json and docs/api.md; add a sample of it to
/// `OpenAPIWireTests.samples`.
public enum API {
    /// `{"items": [...], "next_cursor": ...}`: every list; `next_cursor` is null on the last page.
    public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
        public var items: [Item]
        public var nextCursor: String?

        public init(items: [Item], nextCursor: String?) {
            self.items = items
            self.nextCursor = nextCursor
        }
    }

    /// `{"job": {...}}`: what a route that queues or cancels a job answers.
    public struct JobAccepted: Codable, Sendable {
        public var job: JobRecord

        public init(job: JobRecord) {
            self.job = job
        }
    }

    /// `{"error": {"code", "message", "details"}}`: every error answer.
    public struct Error: Codable, Sendable {
        public struct Body: Codable, Sendable {
            /// Stable and snake_case; clients switch on it.
            public var code: String
            public var message: String
            /// Every issue of a refused reload (`invalid_config`); null on other errors.
            public var details: [ConfigurationIssue]?

            public init(code: String, message: String, details: [ConfigurationIssue]? = nil) {
                self.code = code
                self.message = message
                self.details = details
            }
        }

        public var error: Body

        public init(error: Body) {
            self.error = error
        }
    }

    /// A job's `priority` as a request gives it: a name (`next`, `on-idle`) or an integer level, as a number
    /// or as text.
    public enum Priority: Codable, Sendable, Hashable {
        case text(String)
        case number(Int)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }

        // A bare value, not the `{"text": {"_0": …}}` an enum would get.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            }
        }
    }
}

extension API.Page: Decodable where Item: Decodable {}
