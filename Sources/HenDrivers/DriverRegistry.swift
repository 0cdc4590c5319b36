import Foundation

/// Builds drivers by name. The one place that knows driver names (see ``DriverRegistry/standard`` for the
/// built-in ones and ``DriverRegistry/addingPlugins(_:)`` for those found on disk); each entry carries the
/// driver's ``DriverDescription``, readable without building a driver.
public struct DriverRegistry: Sendable {
    public typealias Factory = @Sendable (RepositoryTarget, DriverContext) throws -> any BackupDriver

    private struct Entry: Sendable {
        var description: DriverDescription
        var factory: Factory
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// Adds a driver under `description.name`. A name registered twice is a programming error and stops
    /// the program (plugins never replace a driver: see ``addingPlugins(_:)``).
    public mutating func register(_ description: DriverDescription, factory: @escaping Factory) {
        precondition(entries[description.name] == nil, "driver \(description.name) registered twice")
        entries[description.name] = Entry(description: description, factory: factory)
    }

    public var names: [String] { entries.keys.sorted() }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    /// What the driver `name` says about itself; nil for an unknown name.
    public func description(of name: String) -> DriverDescription? { entries[name]?.description }

    /// Every driver's description, by name.
    public var descriptions: [DriverDescription] { names.compactMap { entries[$0]?.description } }

    public func makeDriver(_ name: String, repository: RepositoryTarget, context: DriverContext) throws -> any BackupDriver {
        guard let entry = entries[name] else {
            throw DriverError(
                .unknownDriver,
                "Repository \(repository.name) names the driver \"\(name)\", which does not exist (known: \(names.joined(separator: ", "))).",
                repository: repository.name
            )
        }
        return try entry.factory(repository, context)
    }
}
