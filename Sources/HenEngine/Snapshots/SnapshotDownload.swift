import HenDrivers

/// A file's bytes, or a directory as a tar stream, read from a snapshot as it is sent.
public struct SnapshotDownload: Sendable {
    public enum Kind: String, Sendable {
        /// The bytes of one file.
        case file
        /// A tar archive of the directory and everything below it.
        case tar
    }

    public var kind: Kind
    /// A file name for the person saving it: the file's name, or the directory's name with `.tar`.
    public var fileName: String
    /// The file's size when known (nil for a tar stream, whose size is known only at its end).
    public var size: UInt64?
    /// Chunks as the driver produces them; stopping early stops the driver cleanly.
    public var bytes: AsyncThrowingStream<[UInt8], any Error>

    public init(kind: Kind, fileName: String, size: UInt64?, bytes: AsyncThrowingStream<[UInt8], any Error>) {
        self.kind = kind
        self.fileName = fileName
        self.size = size
        self.bytes = bytes
    }
}
