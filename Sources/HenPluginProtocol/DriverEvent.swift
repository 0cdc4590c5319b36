import Foundation

/// Receives a driver's events while an operation runs. Called from any task; must not block.
public typealias DriverEventHandler = @Sendable (DriverEvent) -> Void

public enum DriverEvent: Sendable, Equatable {
    /// Where an operation stands (backups and restores report it; throttling is the receiver's business).
    case progress(Progress)
    /// Something went wrong that did not stop the operation (an unreadable file, say).
    case warning(String)
    /// A line of the driver's own output worth keeping in the job log.
    case log(level: LogLevel, message: String)

    public enum LogLevel: String, Sendable, Codable {
        case debug, info, warning, error
    }
}
