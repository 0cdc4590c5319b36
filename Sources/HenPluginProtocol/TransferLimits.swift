import Foundation

/// Bandwidth limits in bytes per second; nil is unlimited.
public struct TransferLimits: Sendable, Hashable, Codable {
    public var uploadBytesPerSecond: Int?
    public var downloadBytesPerSecond: Int?

    public init(uploadBytesPerSecond: Int? = nil, downloadBytesPerSecond: Int? = nil) {
        self.uploadBytesPerSecond = uploadBytesPerSecond
        self.downloadBytesPerSecond = downloadBytesPerSecond
    }

    /// The stricter of two limits, per direction (a backup's and its repository's: the smaller wins).
    public func combined(with other: TransferLimits) -> TransferLimits {
        func smaller(_ a: Int?, _ b: Int?) -> Int? {
            switch (a, b) {
            case let (a?, b?): min(a, b)
            case let (a?, nil): a
            case let (nil, b?): b
            case (nil, nil): nil
            }
        }
        return TransferLimits(
            uploadBytesPerSecond: smaller(uploadBytesPerSecond, other.uploadBytesPerSecond),
            downloadBytesPerSecond: smaller(downloadBytesPerSecond, other.downloadBytesPerSecond)
        )
    }
}

