import Foundation

/// Finds driver plugins on disk and asks each for its description. A plugin for the driver `borg` is an
/// executable file `hen-plugin-borg` in one of the plugin directories; the first directory that has one
/// wins, and a built-in driver's name is never taken by a plugin.
public enum PluginDiscovery {
    /// Where packages install plugins.
    public static let systemDirectory = "/usr/lib/hen-backup/plugins"

    /// The directories searched after the configured `plugin_dirs`: `plugins/` next to the running binary,
    /// `plugins/` next to the binary's directory (the release tree's `bin/../plugins`, which the image has
    /// at /opt/hen-backup/plugins), the binary's own directory (where `swift build` puts the plugins it
    /// builds), and ``systemDirectory``.
    public static func standardDirectories() -> [String] {
        var directories: [String] = []
        if let binary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let directory = (binary as NSString).deletingLastPathComponent
            let parent = (directory as NSString).deletingLastPathComponent
            directories += [(directory as NSString).appendingPathComponent("plugins"), (parent as NSString).appendingPathComponent("plugins"), directory]
        }
        directories.append(systemDirectory)
        return directories
    }

    /// The plugins in `directories`, by driver name, the first found for each name.
    public static func find(in directories: [String]) -> [(name: String, path: String)] {
        var found: [(name: String, path: String)] = []
        for directory in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for file in files.sorted() {
                guard let name = PluginProtocol.driverName(ofExecutable: file), !found.contains(where: { $0.name == name }) else { continue }
                let path = (directory as NSString).appendingPathComponent(file)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: path)
                else { continue }
                found.append((name, path))
            }
        }
        return found
    }

    /// Runs `describe` and checks the answer: the protocol version this build speaks, the name the file
    /// promises, and no key the protocol cannot carry (`password_command`).
    public static func describe(name: String, executable: String, grace: Duration = .seconds(10)) async throws(DriverError) -> DriverDescription {
        let placeholder = DriverDescription(name: name, capabilities: [], password: .optional, location: .localDirectory)
        let driver: PluginDriver
        do {
            driver = try PluginDriver(
                description: placeholder, executable: executable,
                repository: RepositoryTarget(name: "(describe)", location: "-"), context: DriverContext(hostname: "-"),
                interruptGrace: grace
            )
        } catch let error as DriverError { throw error } catch { throw DriverError(.failed, "\(error)") }
        let result = try await driver.run(.describe, events: { _ in })
        guard result.protocolVersion == PluginProtocol.version else {
            throw DriverError(.unsupported, "The plugin \(executable) speaks plugin protocol \(result.protocolVersion.map(String.init) ?? "(none)"), not \(PluginProtocol.version): update it or Hen Backup.")
        }
        guard let description = result.description, description.name == name else {
            throw DriverError(.failed, "The plugin \(executable) describes itself as \"\(result.description?.name ?? "")\", not \"\(name)\" as its file name says.")
        }
        // Hen sends a plugin the password itself; a password command would be run by nobody.
        guard !description.keys.contains(.passwordCommand) else {
            throw DriverError(.unsupported, "The plugin \(executable) says it takes password_command, which the plugin protocol does not carry (only restic runs one).")
        }
        return description
    }
}

extension DriverRegistry {
    /// This registry with the plugins found in `directories` added (see ``PluginDiscovery``), each under the
    /// name it describes itself with; a plugin named like a driver already registered is left out. A plugin
    /// whose `describe` fails is left out too, with one sentence in `problems` under its name.
    public func addingPlugins(in directories: [String], grace: Duration = .seconds(30)) async -> (registry: DriverRegistry, problems: [String: String]) {
        var registry = self
        var problems: [String: String] = [:]
        for plugin in PluginDiscovery.find(in: directories) where !registry.contains(plugin.name) {
            do {
                let description = try await PluginDiscovery.describe(name: plugin.name, executable: plugin.path)
                let path = plugin.path
                registry.register(description) { repository, context in
                    try PluginDriver(description: description, executable: path, repository: repository, context: context, interruptGrace: grace)
                }
            } catch {
                problems[plugin.name] = error.message
            }
        }
        return (registry, problems)
    }
}
