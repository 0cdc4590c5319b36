import Foundation

/// Why a backup's watcher stopped watching: the backup then runs on its schedules only.
///
/// Shown in the log (as a warning) and in `hen-backup status`. The message names the kernel setting to
/// raise, because that is what the person reading it has to do.
public struct WatchDegradation: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// `inotify_watch_limit` (ENOSPC: `fs.inotify.max_user_watches`), `inotify_instance_limit`
    /// (EMFILE: `fs.inotify.max_user_instances`), `inotify_unavailable` (any other failure to start).
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func watchLimit(backup: String, path: String) -> WatchDegradation {
        let current = kernelSetting("max_user_watches").map { " (now \($0))" } ?? ""
        return WatchDegradation(
            code: "inotify_watch_limit",
            message: "Backup \"\(backup)\" is not watched for changes: the system ran out of inotify watches while adding \(path); "
                + "it now runs only on its schedules, if it has any, and on demand. Raise the limit fs.inotify.max_user_watches\(current), for example "
                + "`sysctl fs.inotify.max_user_watches=524288` (persist it in /etc/sysctl.d/90-hen-backup.conf), then restart the daemon."
        )
    }

    static func instanceLimit(backup: String) -> WatchDegradation {
        let current = kernelSetting("max_user_instances").map { " (now \($0))" } ?? ""
        return WatchDegradation(
            code: "inotify_instance_limit",
            message: "Backup \"\(backup)\" is not watched for changes: the system ran out of inotify instances; "
                + "it now runs only on its schedules, if it has any, and on demand. Raise the limit fs.inotify.max_user_instances\(current), for example "
                + "`sysctl fs.inotify.max_user_instances=1024` (persist it in /etc/sysctl.d/90-hen-backup.conf), then restart the daemon."
        )
    }

    static func unavailable(backup: String, errno code: Int32) -> WatchDegradation {
        WatchDegradation(
            code: "inotify_unavailable",
            message: "Backup \"\(backup)\" is not watched for changes: inotify could not be started (\(String(cString: strerror(code)))); "
                + "it now runs only on its schedules, if it has any, and on demand."
        )
    }

    /// The current value of `/proc/sys/fs/inotify/<name>`, when readable.
    static func kernelSetting(_ name: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/sys/fs/inotify/\(name)", encoding: .utf8) else { return nil }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }
}
