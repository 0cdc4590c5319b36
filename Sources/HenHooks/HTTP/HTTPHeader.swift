/// One header line. Names compare case-insensitively in `HTTPResponse.header(_:)`.
/// Printing a header (or a request holding it) shows its name only: values are often tokens.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): ***" }
    public var debugDescription: String { "\(name): ***" }
}
