import Foundation

/// The restic the tests run: the first `restic` on PATH, else /usr/bin/restic (Debian's package).
///
/// Tests that need restic use `Restic.path` and do not skip when it is missing: one test
/// (`ResticInstalledTests`) fails then with `Restic.missing`, and says what to do.
public enum Restic {
    public static let path: String = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        for directory in directories where !directory.isEmpty {
            let candidate = "\(directory)/restic"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/restic"
    }()

    /// Whether `path` is a program this process may run.
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// What the failing test says when restic is missing.
    public static let missing = "restic is not installed: make test installs it"
}
