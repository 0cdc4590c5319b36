import Foundation

/// Encodes values by ``HenJSON``'s convention. Foundation's `JSONEncoder` leaves an absent optional's key
/// out (synthesized `Codable` calls `encodeIfPresent`) and cannot be told otherwise; this encoder builds the
/// document itself, writing `null` for those keys, snake_case keys and the chosen date form, then prints it
/// exactly as `JSONEncoder` does (sorted keys, slashes unescaped; ``Tree/compactJSON()``), so numbers and
/// strings read exactly as before.
public struct HenJSONEncoder: Sendable {
    public var pretty: Bool
    public var dates: HenJSON.DateForm

    public init(pretty: Bool = false, dates: HenJSON.DateForm = .rfc3339) {
        self.pretty = pretty
        self.dates = dates
    }

    public func encode(_ value: some Encodable) throws -> Data {
        let tree = try TreeEncoder(dates: dates, codingPath: []).tree(value, at: [])
        // The compact form (every API answer, every stored record) is printed here, byte for byte as
        // JSONEncoder prints it with sorted keys and unescaped slashes, without going through `Encodable`
        // once more; the pretty form, and a tree with a number JSON cannot hold, go to JSONEncoder.
        if !pretty, let bytes = tree.compactJSON() { return Data(bytes) }
        let printer = JSONEncoder()
        printer.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return try printer.encode(tree)
    }

    /// The encoded value as text.
    public func string(_ value: some Encodable) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}

/// A JSON document being built. Objects and arrays are boxes so that nested containers write into them.
enum Tree: Encodable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Float)
    case double(Double)
    case string(String)
    case array(ArrayBox)
    case object(ObjectBox)

    final class ArrayBox {
        var items: [Tree] = []
    }

    final class ObjectBox {
        /// A key written twice keeps the later value, as with `JSONEncoder`.
        var members: [String: Tree] = [:]
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .uint(let value): try container.encode(value)
        case .float(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let box): try container.encode(box.items)
        // A [String: Tree] dictionary: its keys are printed as they are (the printer has no key strategy).
        case .object(let box): try container.encode(box.members)
        }
    }
}

extension Tree {
    /// The tree as JSONEncoder prints it with `[.sortedKeys, .withoutEscapingSlashes]`: keys sorted by their
    /// UTF-8 bytes, `"`, `\\` and control characters escaped, numbers as their `description` without a
    /// trailing `.0`. Nil when it holds a NaN or an infinite number (JSONEncoder then says why it refuses).
    func compactJSON() -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        return write(into: &bytes) ? bytes : nil
    }

    private func write(into bytes: inout [UInt8]) -> Bool {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): bytes.append(contentsOf: value.description.utf8)
        case .uint(let value): bytes.append(contentsOf: value.description.utf8)
        case .float(let value):
            guard value.isFinite else { return false }
            Self.appendNumber(value.description, to: &bytes)
        case .double(let value):
            guard value.isFinite else { return false }
            Self.appendNumber(value.description, to: &bytes)
        case .string(let value): Self.appendString(value, to: &bytes)
        case .array(let box):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in box.items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                guard item.write(into: &bytes) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let box):
            bytes.append(UInt8(ascii: "{"))
            let members = box.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.appendString(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                guard member.value.write(into: &bytes) else { return false }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// A whole number is written without `.0` (`2`, not `2.0`), as JSONEncoder writes it.
    private static func appendNumber(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = text.utf8
        if text.hasSuffix(".0") { bytes.append(contentsOf: utf8.dropLast(2)) } else { bytes.append(contentsOf: utf8) }
    }

    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        func hex(_ value: UInt8) -> UInt8 { value < 10 ? value + UInt8(ascii: "0") : value - 10 + UInt8(ascii: "a") }
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00...0x1F: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex(byte / 16), hex(byte % 16)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A `[String: …]` dictionary: its keys are data, written as they are.
protocol StringKeyedDictionary {
    func tree(_ encoder: TreeEncoder, at path: [any CodingKey]) throws -> Tree
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Encodable {
    func tree(_ encoder: TreeEncoder, at path: [any CodingKey]) throws -> Tree {
        let box = Tree.ObjectBox()
        for (key, value) in self {
            box.members[key] = try encoder.tree(value, at: path + [HenJSON.AnyKey(key)])
        }
        return .object(box)
    }
}

final class TreeEncoder: Encoder {
    let dates: HenJSON.DateForm
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What the value encoded itself as; nil until it asks for a container.
    var result: Tree?

    init(dates: HenJSON.DateForm, codingPath: [any CodingKey]) {
        self.dates = dates
        self.codingPath = codingPath
    }

    /// One value as a tree: dates in the chosen form, dictionaries with their keys kept, everything else by
    /// its own `encode(to:)` into this encoder's containers.
    func tree<T: Encodable>(_ value: T, at path: [any CodingKey]) throws -> Tree {
        switch value {
        case let date as Date:
            switch dates {
            case .rfc3339: return .string(date.formatted(.iso8601))
            case .secondsSince1970: return .double(date.timeIntervalSince1970)
            }
        case let url as URL: return .string(url.absoluteString)
        case let data as Data: return .string(data.base64EncodedString())
        case let dictionary as any StringKeyedDictionary: return try dictionary.tree(self, at: path)
        default:
            let encoder = TreeEncoder(dates: dates, codingPath: path)
            try value.encode(to: encoder)
            // A value that asked for no container is an empty object, as with JSONEncoder.
            return encoder.result ?? .object(Tree.ObjectBox())
        }
    }

    func objectBox() -> Tree.ObjectBox {
        if case .object(let box)? = result { return box }
        let box = Tree.ObjectBox()
        result = .object(box)
        return box
    }

    func arrayBox() -> Tree.ArrayBox {
        if case .array(let box)? = result { return box }
        let box = Tree.ArrayBox()
        result = .array(box)
        return box
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedTreeContainer<Key>(encoder: self, box: objectBox(), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedTreeContainer(encoder: self, box: arrayBox(), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleTreeContainer(encoder: self)
    }
}

/// An encoder for `superEncoder()`: what is encoded into it lands in its parent's box when it is done.
final class DeferredTreeEncoder: Encoder {
    let inner: TreeEncoder
    let store: (Tree) -> Void
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(inner: TreeEncoder, store: @escaping (Tree) -> Void) {
        self.inner = inner
        self.store = store
    }

    deinit { store(inner.result ?? .object(Tree.ObjectBox())) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

struct KeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: TreeEncoder
    let box: Tree.ObjectBox
    let codingPath: [any CodingKey]
    /// Whether `Key` is a ``VerbatimCodingKey``: asked once per container, not once per key.
    private let verbatim: Bool

    init(encoder: TreeEncoder, box: Tree.ObjectBox, codingPath: [any CodingKey]) {
        self.encoder = encoder
        self.box = box
        self.codingPath = codingPath
        verbatim = Key.self is any VerbatimCodingKey.Type
    }

    private func name(_ key: Key) -> String {
        verbatim ? key.stringValue : HenJSON.snakeCase(key.stringValue)
    }

    private func set(_ tree: Tree, _ key: Key) { box.members[name(key)] = tree }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.float(value), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.uint(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try encoder.tree(value, at: codingPath + [key]), key)
    }

    // The point of this encoder: synthesized Codable writes optionals with these, and an absent one is `null`.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encodeOrNull(value, key) }

    private mutating func encodeOrNull<T: Encodable>(_ value: T?, _ key: Key) throws {
        guard let value else { return set(.null, key) }
        set(try encoder.tree(value, at: codingPath + [key]), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = Tree.ObjectBox()
        set(.object(nested), key)
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(encoder: encoder, box: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = Tree.ArrayBox()
        set(.array(nested), key)
        return UnkeyedTreeContainer(encoder: encoder, box: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let box = self.box
        return DeferredTreeEncoder(inner: TreeEncoder(dates: encoder.dates, codingPath: codingPath + [HenJSON.AnyKey("super")])) { box.members["super"] = $0 }
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let box = self.box
        let name = name(key)
        return DeferredTreeEncoder(inner: TreeEncoder(dates: encoder.dates, codingPath: codingPath + [key])) { box.members[name] = $0 }
    }
}

struct UnkeyedTreeContainer: UnkeyedEncodingContainer {
    let encoder: TreeEncoder
    let box: Tree.ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.items.count }

    private var nextKey: any CodingKey { HenJSON.AnyKey(intValue: box.items.count) }

    mutating func encodeNil() throws { box.items.append(.null) }
    mutating func encode(_ value: Bool) throws { box.items.append(.bool(value)) }
    mutating func encode(_ value: String) throws { box.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { box.items.append(.double(value)) }
    mutating func encode(_ value: Float) throws { box.items.append(.float(value)) }
    mutating func encode(_ value: Int) throws { box.items.append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { box.items.append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { box.items.append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { box.items.append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { box.items.append(.int(value)) }
    mutating func encode(_ value: UInt) throws { box.items.append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { box.items.append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { box.items.append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { box.items.append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { box.items.append(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        box.items.append(try encoder.tree(value, at: codingPath + [nextKey]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = Tree.ObjectBox()
        let path = codingPath + [nextKey]
        box.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(encoder: encoder, box: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = Tree.ArrayBox()
        let path = codingPath + [nextKey]
        box.items.append(.array(nested))
        return UnkeyedTreeContainer(encoder: encoder, box: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let box = self.box
        let index = box.items.count
        box.items.append(.null)
        return DeferredTreeEncoder(inner: TreeEncoder(dates: encoder.dates, codingPath: codingPath + [nextKey])) { box.items[index] = $0 }
    }
}

struct SingleTreeContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.result = .null }
    mutating func encode(_ value: Bool) throws { encoder.result = .bool(value) }
    mutating func encode(_ value: String) throws { encoder.result = .string(value) }
    mutating func encode(_ value: Double) throws { encoder.result = .double(value) }
    mutating func encode(_ value: Float) throws { encoder.result = .float(value) }
    mutating func encode(_ value: Int) throws { encoder.result = .int(Int64(value)) }
    mutating func encode(_ value: Int8) throws { encoder.result = .int(Int64(value)) }
    mutating func encode(_ value: Int16) throws { encoder.result = .int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { encoder.result = .int(Int64(value)) }
    mutating func encode(_ value: Int64) throws { encoder.result = .int(value) }
    mutating func encode(_ value: UInt) throws { encoder.result = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.result = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.result = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.result = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.result = .uint(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.result = try encoder.tree(value, at: encoder.codingPath)
    }
}
