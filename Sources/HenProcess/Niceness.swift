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
