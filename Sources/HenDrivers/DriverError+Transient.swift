import Foundation

extension DriverError {
    /// Whether trying again later may succeed without anyone changing anything: the storage could not be
    /// reached (refused, reset, timed out), or the repository is locked by a running restic of *another*
    /// host (it ends by itself; one of this machine's would be a leftover that an unlock must remove).
    /// A wrong password, a missing repository, a bad request or a missing program are never transient.
    public var isTransient: Bool {
        switch code {
        case .backendUnreachable:
            return true
        case .repositoryLocked:
            guard let host = Self.lockHost(in: detail ?? message) else { return false }
            return host != Self.machineHostname
        default:
            return false
        }
    }

    /// Why a transient failure is retried, in a few words for the job log.
    public var transientReason: String {
        code == .repositoryLocked ? "locked by another host's running restic" : "storage unreachable"
    }

    /// The host named in restic's "repository is already locked [exclusively] by PID 1234 on HOST by USER".
    static func lockHost(in text: String) -> String? {
        guard let range = text.range(of: #"locked (exclusively )?by PID \d+ on (\S+) by"#, options: .regularExpression) else { return nil }
        let words = text[range].split(separator: " ")
        guard let on = words.firstIndex(of: "on"), on + 1 < words.count else { return nil }
        return String(words[on + 1])
    }

    /// This machine's name as restic writes it into its locks (`os.Hostname()`).
    public static let machineHostname: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}
