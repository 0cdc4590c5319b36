/// CPU and IO scheduling priority for child processes.
public struct Niceness: Sendable, Hashable, Codable {
    /// 0 (normal) to 19 (nicest); nil leaves it as inherited.
    public var cpu: Int?
    public var io: IOClass?

    public enum IOClass: Sendable, Hashable, Codable {
        case idle
        case bestEffort(level: Int?)
        case realtime(level: Int?)
    }

    public init(cpu: Int? = nil, io: IOClass? = nil) {
        self.cpu = cpu
        self.io = io
    }
}

extension Niceness.IOClass {
    /// `ionice`'s arguments for this class: `-c 3`, `-c 2 -n 4`… (a level clamped to 0…7).
    public var ioniceArguments: [String] {
        switch self {
        case .idle:
            ["-c", "3"]
        case .bestEffort(let level):
            ["-c", "2"] + (level.map { ["-n", String(min(max($0, 0), 7))] } ?? [])
        case .realtime(let level):
            ["-c", "1"] + (level.map { ["-n", String(min(max($0, 0), 7))] } ?? [])
        }
    }
}
