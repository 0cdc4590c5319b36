import Foundation

/// What a driver can do.
public struct DriverCapabilities: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Data at rest is encrypted with the repository password.
    public static let encrypted = DriverCapabilities(rawValue: 1 << 0)
    /// Several backups may write to one repository at the same time.
    public static let concurrentBackups = DriverCapabilities(rawValue: 1 << 1)
    /// Upload and download limits are honoured.
    public static let bandwidthLimits = DriverCapabilities(rawValue: 1 << 2)
    /// Unchanged data is stored once across snapshots.
    public static let deduplication = DriverCapabilities(rawValue: 1 << 3)
    /// `check` can read back a subset of the data.
    public static let readDataSubset = DriverCapabilities(rawValue: 1 << 4)
    /// Locks can go stale and `unlock` can clear them.
    public static let locks = DriverCapabilities(rawValue: 1 << 5)
    /// `diff` compares two snapshots itself (otherwise the engine compares their indexed trees).
    public static let diff = DriverCapabilities(rawValue: 1 << 6)

    /// Every capability with its name on the wire and in the API, in this order.
    public static let named: [(name: String, capability: DriverCapabilities)] = [
        ("encrypted", .encrypted), ("concurrent_backups", .concurrentBackups), ("bandwidth_limits", .bandwidthLimits),
        ("deduplication", .deduplication), ("read_data_subset", .readDataSubset), ("locks", .locks),
        ("diff", .diff),
    ]

    public var names: [String] {
        Self.named.filter { contains($0.capability) }.map(\.name)
    }

    /// Capabilities from their names; nil when one is unknown.
    public init?(names: [String]) {
        var capabilities: DriverCapabilities = []
        for name in names {
            guard let entry = Self.named.first(where: { $0.name == name }) else { return nil }
            capabilities.insert(entry.capability)
        }
        self = capabilities
    }
}

/// On the wire a driver's capabilities are a list of names (`["encrypted", "locks"]`), readable by a plugin
/// in any language; an unknown name is an error rather than silently dropped.
extension DriverCapabilities {
    public init(from decoder: any Decoder) throws {
        let names = try decoder.singleValueContainer().decode([String].self)
        guard let capabilities = DriverCapabilities(names: names) else {
            let known = Self.named.map(\.name).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown capability in \(names) (known: \(known))"))
        }
        self = capabilities
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(names)
    }
}
