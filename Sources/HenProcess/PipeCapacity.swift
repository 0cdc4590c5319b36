import Foundation

/// The child's stdout pipe made larger than Linux's 64 KiB default, so that a child writing a lot (restic
/// dump, restic ls) is not stopped at every 64 KiB while Hen takes the previous chunk: with the default
/// pipe, `restic dump` of 1 GiB read by Hen in 64 KiB reads took 1.4× its time into /dev/null, with 1 MiB
/// 1.1× (see BENCHMARKS.md). Reads then come in chunks of up to the new size (swift-subprocess asks the
/// pipe's size when reading starts).
///
/// swift-subprocess keeps the pipe's descriptors to itself, so the pipe is reached through the child's
/// own stdout, `/proc/PID/fd/1`: opening that opens the same pipe, whose size is set with
/// `F_SETPIPE_SZ`, and the extra descriptor is closed at once (close-on-exec, never seen by another child).
/// Best effort: a child gone already, a size above `/proc/sys/fs/pipe-max-size` for an unprivileged user,
/// or a user's pipe quota reached leaves the default pipe, which works, only slower.
enum PipeCapacity {
    static let stdoutBytes: Int32 = 1 << 20

    static func enlargeStdout(of processID: pid_t, to bytes: Int32 = stdoutBytes) {
        let descriptor = open("/proc/\(processID)/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        // F_SETPIPE_SZ (1031) fails with EINVAL on anything but a pipe: nothing is changed then.
        _ = fcntl(descriptor, 1031, bytes)
    }
}
