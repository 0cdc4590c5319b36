import Foundation

/// Opaque cursors: base64url of a small JSON object, so that clients pass them back unchanged and never
/// build them. A cursor that does not decode is the client's mistake (`badRequest`).
enum PageCursor {
    static func encode<T: Encodable>(_ value: T) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let value = try? JSONDecoder().decode(type, from: data) else {
            throw EngineError(.badRequest, "The cursor \(text.prefix(40)) is not one this server gave out; start again without a cursor.")
        }
        return value
    }
}

/// Where a snapshot list page ended: the last item's time (µs), repository and id.
struct SnapshotListCursor: Codable, Hashable {
    var time: Int64
    var repository: String
    var id: String
}

/// Where a directory page ended: the last item's name.
struct DirectoryCursor: Codable, Hashable {
    var after: String
}
