#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The inotify system calls a watcher makes, injectable so tests can simulate the kernel's limits
/// (`ENOSPC` when `fs.inotify.max_user_watches` is used up, `EMFILE` for `max_user_instances`).
public struct InotifyCalls: Sendable {
    /// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`: a descriptor, or the errno.
    public var initialize: @Sendable () -> Result<Int32, InotifyCallError>
    /// `inotify_add_watch(descriptor, path, mask)`: a watch descriptor, or the errno.
    public var addWatch: @Sendable (_ descriptor: Int32, _ path: String, _ mask: UInt32) -> Result<Int32, InotifyCallError>
    /// `inotify_rm_watch(descriptor, watch)`.
    public var removeWatch: @Sendable (_ descriptor: Int32, _ watch: Int32) -> Void

    public init(
        initialize: @escaping @Sendable () -> Result<Int32, InotifyCallError>,
        addWatch: @escaping @Sendable (_ descriptor: Int32, _ path: String, _ mask: UInt32) -> Result<Int32, InotifyCallError>,
        removeWatch: @escaping @Sendable (_ descriptor: Int32, _ watch: Int32) -> Void
    ) {
        self.initialize = initialize
        self.addWatch = addWatch
        self.removeWatch = removeWatch
    }

    /// The kernel's calls.
    public static let system = InotifyCalls(
        initialize: {
            let descriptor = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
            return descriptor >= 0 ? .success(descriptor) : .failure(InotifyCallError(errno: errno))
        },
        addWatch: { descriptor, path, mask in
            let watch = inotify_add_watch(descriptor, path, mask)
            return watch >= 0 ? .success(watch) : .failure(InotifyCallError(errno: errno))
        },
        removeWatch: { descriptor, watch in
            _ = inotify_rm_watch(descriptor, watch)
        }
    )
}

/// An inotify call failed with this errno.
public struct InotifyCallError: Error, Sendable, Hashable {
    public var errno: Int32
    public init(errno: Int32) { self.errno = errno }
}
