import Foundation

/// The one JSON convention of Hen Backup, for the API's answers and requests, job records (shown and
/// stored), events and the CLI's `--json` output: snake_case keys, explicit nulls, dates as RFC 3339.
///
/// Types state their properties in Swift's spelling (`startedAt`, `snapshotID`) and let synthesized
/// `Codable` do the rest: the coders below turn keys into `started_at` / `snapshot_id` and back, write an
/// absent optional as `null` instead of leaving its key out, and write dates as `2026-11-28T04:13:30Z`.
/// Write `CodingKeys` or `encode(to:)` only for what a rename cannot say (say why in a comment).
///
/// Keys are converted on structs and enums only: a `[String: …]` dictionary's keys, and keys of a
/// ``VerbatimCodingKey`` type, are data (backup names, environment variables) and stay as they are.
public enum HenJSON {
    /// How dates are written.
    public enum DateForm: Sendable {
        /// RFC 3339 in UTC, whole seconds (`2026-11-28T04:13:30Z`): everything people and clients read.
        case rfc3339
        /// Seconds since 1970 as a number, to the microsecond: the job store's JSON columns, which have held
        /// this form since its first schema and order log lines finer than a second.
        case secondsSince1970
    }

    /// The encoder for the convention; `pretty` for the CLI's `--json`, where people read it too.
    public static func encoder(pretty: Bool = false, dates: DateForm = .rfc3339) -> HenJSONEncoder {
        HenJSONEncoder(pretty: pretty, dates: dates)
    }

    /// The decoder for the convention. It reads what any ``encoder(pretty:dates:)`` wrote, and more: keys in
    /// either spelling (`started_at`, `startedAt`), a missing key as nil, dates as RFC 3339 text (with or
    /// without fractions of a second) or as seconds since 1970. So records written before the convention
    /// (the job store's first rows) still read.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            // Called for struct and enum keys, never for a dictionary's (Foundation keeps those as they are).
            AnyKey(camelCase(path.last?.stringValue ?? ""))
        }
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) { return Date(timeIntervalSince1970: seconds) }
            let text = try container.decode(String.self)
            if let date = try? Date(text, strategy: .iso8601) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not an RFC 3339 date (2026-11-28T04:13:30Z).")
        }
        return decoder
    }

    /// Acronyms spelled in capitals in Swift (`snapshotID`, `snapshotIDs`, `baseURL`) and in lower case in keys.
    static let acronyms: [String: String] = ["id": "ID", "ids": "IDs", "url": "URL", "urls": "URLs"]

    /// `startedAt` → `started_at`, `snapshotID` → `snapshot_id`, `snapshotIDs` → `snapshot_ids`,
    /// `myURLProperty` → `my_url_property`. Keys already in snake_case stay as they are.
    public static func snakeCase(_ key: String) -> String {
        // Every key an encoder writes goes through here: property names are ASCII, converted byte by byte.
        asciiSnakeCase(key) ?? characterSnakeCase(key)
    }

    /// ``snakeCase(_:)`` character by character, for any key.
    static func characterSnakeCase(_ key: String) -> String {
        let characters = Array(key)
        var result = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // A plural acronym (`IDs`) is one word: its `s` does not start a new one.
                let pluralEnd = next == "s" && (index + 2 == characters.count || characters[index + 2].isUppercase)
                if previous.isLowercase || previous.isNumber {
                    result.append("_")
                } else if previous.isUppercase, let next, next.isLowercase, !pluralEnd {
                    result.append("_")
                }
            }
            result.append(contentsOf: character.lowercased())
        }
        return result
    }

    /// ``snakeCase(_:)`` of an ASCII key, the same rules on bytes; nil for a key with other characters.
    static func asciiSnakeCase(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        func upper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
        func lower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        func digit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard bytes.contains(where: upper) else { return key }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 4)
        for (index, byte) in bytes.enumerated() {
            if upper(byte), index > 0 {
                let previous = bytes[index - 1]
                let next = index + 1 < bytes.count ? bytes[index + 1] : nil
                let pluralEnd = next == UInt8(ascii: "s") && (index + 2 == bytes.count || upper(bytes[index + 2]))
                if lower(previous) || digit(previous) {
                    result.append(UInt8(ascii: "_"))
                } else if upper(previous), let next, lower(next), !pluralEnd {
                    result.append(UInt8(ascii: "_"))
                }
            }
            result.append(upper(byte) ? byte + 32 : byte)
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// `started_at` → `startedAt`, `snapshot_id` → `snapshotID` (see ``acronyms``); a key without `_` stays.
    public static func camelCase(_ key: String) -> String {
        // Every key of every object a decoder reads goes through here: look for `_` in bytes, not through
        // Foundation's string search.
        guard key.utf8.contains(UInt8(ascii: "_")) else { return key }
        return asciiCamelCase(key) ?? characterCamelCase(key)
    }

    /// ``camelCase(_:)`` character by character, for any key.
    static func characterCamelCase(_ key: String) -> String {
        let words = key.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = words.first else { return key }
        return String(first) + words.dropFirst().map { word in
            acronyms[String(word)] ?? word.prefix(1).uppercased() + word.dropFirst()
        }.joined()
    }

    /// ``camelCase(_:)`` of an ASCII key, the same rules on bytes; nil for a key with other characters.
    static func asciiCamelCase(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let words = bytes.split(separator: UInt8(ascii: "_"), omittingEmptySubsequences: true)
        guard let first = words.first else { return key }
        var result = Array(first)
        result.reserveCapacity(bytes.count)
        for word in words.dropFirst() {
            if let acronym = acronyms[String(decoding: word, as: UTF8.self)] {
                result.append(contentsOf: acronym.utf8)
            } else {
                let head = word[word.startIndex]
                result.append(head >= UInt8(ascii: "a") && head <= UInt8(ascii: "z") ? head - 32 : head)
                result.append(contentsOf: word.dropFirst())
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ string: String) { stringValue = string }
        init(stringValue: String) { self.stringValue = stringValue }
        init(intValue: Int) {
            stringValue = String(intValue)
            self.intValue = intValue
        }
    }
}

/// A coding key whose text is data rather than a property name (an object of free-form keys such as the
/// configuration's rendering): ``HenJSON`` writes it as it is instead of in snake_case.
public protocol VerbatimCodingKey: CodingKey {}
