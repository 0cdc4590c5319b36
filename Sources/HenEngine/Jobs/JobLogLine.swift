import Foundation
import HenDrivers

/// One line of a job's log (the driver's own words, the engine's notes).
public struct JobLogLine: Sendable, Hashable, Codable {
    public var time: Date
    public var level: DriverEvent.LogLevel
    public var message: String

    public init(time: Date, level: DriverEvent.LogLevel, message: String) {
        self.time = time
        self.level = level
        self.message = message
    }
}
