extension DriverRegistry {
    /// Every driver Hen Backup ships, by the name a repository's `driver:` uses.
    public static let standard: DriverRegistry = {
        var registry = DriverRegistry()
        registry.register("restic") { try ResticDriver(repository: $0, context: $1) }
        registry.register("tar") { try TarDriver(repository: $0, context: $1) }
        return registry
    }()
}
