extension DriverRegistry {
    /// The driver of a repository whose configuration names none.
    public static let defaultDriver = ResticDriver.description.name

    /// Every driver built into Hen Backup, by the name a repository's `driver:` uses. Plugins found on disk
    /// are added with ``addingPlugins(_:)``.
    public static let standard: DriverRegistry = {
        var registry = DriverRegistry()
        registry.register(ResticDriver.description) { try ResticDriver(repository: $0, context: $1) }
        registry.register(TarDriver.description) { try TarDriver(repository: $0, context: $1) }
        return registry
    }()
}
