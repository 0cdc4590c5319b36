import Foundation
import HenDrivers
import Testing

/// docs/drivers.md's capability table says what the drivers' descriptions in code say: each of the first
/// rows (one per capability) has `yes…` in a driver's column exactly when that driver has the capability.
/// The plugins are asked for their description as the daemon asks them (`describe`).
struct DriverDocsTests {
    @Test func theCapabilityTableMatchesTheDescriptions() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/drivers.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n## Capabilities\n").dropFirst().first, "docs/drivers.md has no Capabilities section")
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("|") }.map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let header = try #require(rows.first)
        let drivers = Array(header.dropFirst())
        #expect(drivers == ["restic", "tar", "borg", "rsync"])

        var descriptions = [ResticDriver.description.name: ResticDriver.description, TarDriver.description.name: TarDriver.description]
        for plugin in PluginDiscovery.find(in: PluginDiscovery.standardDirectories()) where drivers.contains(plugin.name) {
            descriptions[plugin.name] = try await PluginDiscovery.describe(name: plugin.name, executable: plugin.path)
        }
        #expect(Set(descriptions.keys) == Set(drivers), "the plugins were not found beside the tests: run swift build")

        for (name, capability) in DriverCapabilities.named {
            let row = try #require(rows.first { $0.first?.hasPrefix("`\(name)`") == true }, "no row for \(name)")
            for (index, driver) in drivers.enumerated() {
                guard let description = descriptions[driver], index + 1 < row.count else { continue }
                #expect(row[index + 1].hasPrefix("yes") == description.capabilities.contains(capability), "\(name) for \(driver): the table says \(row[index + 1])")
            }
        }
    }
}
