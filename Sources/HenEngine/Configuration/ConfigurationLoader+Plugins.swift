import Foundation
import HenDrivers
import Yams

extension ConfigurationLoader {
    /// This loader with the driver plugins the file at `path` can use added to its drivers: those in the
    /// file's `plugin_dirs` (read here, before the file is checked; relative to the file's directory), then
    /// in `plugins/` next to the binary, next to the binary, and in /usr/lib/hen-backup/plugins. Each is
    /// asked to describe itself once. A plugin that cannot is left out, and a repository naming it is told
    /// why (see ``pluginProblems``).
    public func addingPlugins(forFile path: String, standardDirectories: [String] = PluginDiscovery.standardDirectories()) async -> ConfigurationLoader {
        let absolute = Self.absolute(path)
        let configured = Self.pluginDirectories(inFile: absolute)
        var loader = self
        let found = await drivers.addingPlugins(in: configured + standardDirectories)
        loader.drivers = found.registry
        loader.pluginProblems = found.problems
        return loader
    }

    /// `plugin_dirs` as written in the file, made absolute; empty when the file or the key cannot be read
    /// (the load that follows reports what is wrong with it).
    static func pluginDirectories(inFile absolute: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: absolute), let text = String(data: data, encoding: .utf8),
            let root = try? Yams.compose(yaml: text), case .mapping(let mapping) = root,
            let node = mapping[Yams.Node("plugin_dirs")], case .sequence(let items) = node
        else { return [] }
        let directory = (absolute as NSString).deletingLastPathComponent
        return items.compactMap { item in
            guard case .scalar(let scalar) = item, !scalar.string.isEmpty else { return nil }
            let value = scalar.string
            return value.hasPrefix("/") ? value : ((directory as NSString).appendingPathComponent(value) as NSString).standardizingPath
        }
    }
}
