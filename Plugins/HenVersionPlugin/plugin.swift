import Foundation
import PackagePlugin

/// Writes the version `git describe` gives at build time into the target it is applied to
/// (`HenBuildInfo`), so `hen-backup --version` and `/api/v1/status` name the commit they were built from.
/// `HEN_VERSION` in the environment wins (a build from a tarball or a container without `.git`).
@main
struct HenVersionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let script = context.package.directoryURL.appending(path: "Plugins/HenVersionPlugin/describe-version.sh")
        var environment: [String: String] = [:]
        for name in ["HEN_VERSION", "PATH", "HOME"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        // A prebuild command runs before every build; the script rewrites its file only when the version
        // changed, so an unchanged version recompiles nothing.
        return [
            .prebuildCommand(
                displayName: "Describing the version with git",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.appending(path: "DescribedVersion.swift").path],
                environment: environment,
                outputFilesDirectory: output
            ),
        ]
    }
}
