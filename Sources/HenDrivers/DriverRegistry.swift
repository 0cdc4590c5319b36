import Foundation

/// Builds drivers by name. The one place that lists every driver (see ``DriverRegistry/standard``).
public struct DriverRegistry: Sendable {
    public typealias Factory = @Sendable (RepositoryTarget, DriverContext) throws -> any BackupDriver

    private var factories: [String: Factory] = [:]

    public init() {}

    /// Adds a driver. A name registered twice is a programming error and stops the program.
    public mutating func register(_ name: String, factory: @escaping Factory) {
        precondition(factories[name] == nil, "driver \(name) registered twice")
        factories[name] = factory
    }

    public var names: [String] { factories.keys.sorted() }

    public func contains(_ name: String) -> Bool { factories[name] != nil }

    public func makeDriver(_ name: String, repository: RepositoryTarget, context: DriverContext) throws -> any BackupDriver {
        guard let factory = factories[name] else {
            throw DriverError(
                .unknownDriver,
                "Repository \(repository.name) names the driver \"\(name)\", which does not exist (known: \(names.joined(separator: ", "))).",
                repository: repository.name
            )
        }
        return try factory(repository, context)
    }
}
