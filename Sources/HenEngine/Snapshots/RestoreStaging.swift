import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a restore writes without leaving its target, whatever symbolic links the disk or the snapshot hold.
///
/// When the restore starts (not when it was queued: the disk may change meanwhile) the target is resolved
/// and checked again, then opened one component at a time from the allowed directory with `O_NOFOLLOW`
/// (missing ones are created, mode 0700): a link that appeared below the allowed directory refuses the
/// restore instead of being followed. Inside the target Hen creates a fresh, empty, private directory
/// (`.hen-restore-…`, mode 0700), and the driver restores into it through `/proc/<pid>/fd/<n>`, which names
/// that very directory whatever happens to its path. The driver thus only meets links it restored itself,
/// in a directory nobody else wrote to. Then each entry is moved into the target with `renameat` relative
/// to directories opened without following links: a directory merges into a directory, anything else
/// replaces what is there (a link on disk is replaced, never followed). A directory on disk is never
/// replaced by a file: that entry stays in the staging directory and the job warns.
final class RestoreStaging: Sendable {
    /// Points where tests change the disk between two system calls, deterministically.
    struct Seams: Sendable {
        /// After the staging directory is created, before it is opened (its path).
        var afterCreating: @Sendable (String) -> Void = { _ in }
        /// Before an entry is renamed into the target (its path below the target).
        var beforeMoving: @Sendable (String) -> Void = { _ in }
    }

    /// The prefix of every staging directory's name; no target and no restored entry may carry it.
    static let prefix = ".hen-restore-"

    /// The target as the job names it (for messages).
    let target: String
    /// The target, opened without following links below the allowed directory.
    private let targetDirectory: Int32
    /// The staging directory's name inside the target, NUL-terminated.
    private let name: [CChar]
    private let staging: Int32
    private let seams: Seams

    /// What the driver restores into: the staging directory itself, not a path that could be swapped.
    var driverTarget: String { "/proc/\(getpid())/fd/\(staging)" }
    /// The staging directory's path, for messages.
    var stagingPath: String { (target == "/" ? "" : target) + "/" + Self.display(name) }

    private init(target: String, targetDirectory: Int32, name: [CChar], staging: Int32, seams: Seams) {
        self.target = target
        self.targetDirectory = targetDirectory
        self.name = name
        self.staging = staging
        self.seams = seams
    }

    deinit {
        close(staging)
        close(targetDirectory)
    }

    /// Checks and opens the target for `scope` and creates the staging directory in it.
    static func prepare(target: String, scope: RestoreScope, allowedTargets: [String], seams: Seams = Seams()) throws -> RestoreStaging {
        guard access("/proc/self/fd", X_OK) == 0 else {
            throw EngineError(.invalidRequest, "Restores need /proc (to hand the driver the directory Hen opened), and /proc/self/fd is not readable here.")
        }
        let directory: Int32
        switch scope {
        case .allowedTargets:
            directory = try openBelow(try RestoreTarget.locate(target, allowedTargets: allowedTargets), target: target)
        case .anywhere:
            try RestoreTarget.checkSpelling(target)
            directory = try openAnywhere(target)
        }
        for _ in 0..<8 {
            let name = Array("\(prefix)\(String(UInt64.random(in: 0...UInt64.max), radix: 16))".utf8CString)
            if mkdirat(directory, name, 0o700) != 0 {
                if errno == EEXIST { continue }
                let reason = Self.reason(errno)
                close(directory)
                throw EngineError(.invalidRequest, "Cannot create a staging directory in the restore target \(target): \(reason).")
            }
            seams.afterCreating((target == "/" ? "" : target) + "/" + display(name))
            let staging = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard staging >= 0 else {
                // Not removed: what stands there now may not be what Hen created.
                let reason = Self.reason(errno)
                close(directory)
                throw EngineError(.invalidRequest, "Cannot open the staging directory \(display(name)) in the restore target \(target) (it was replaced or removed meanwhile): \(reason), so nothing was restored.")
            }
            guard isFreshlyCreated(staging) else {
                // Someone who can write in the target swapped in a directory of their own between mkdirat and
                // openat (its links would lead the driver out): left as it is, and nothing is written.
                close(staging)
                close(directory)
                throw EngineError(.invalidRequest, "The staging directory \(display(name)) in the restore target \(target) was replaced by another one before the restore started (someone else can write in the target), so nothing was restored.")
            }
            return RestoreStaging(target: target, targetDirectory: directory, name: name, staging: staging, seams: seams)
        }
        close(directory)
        throw EngineError(.invalidRequest, "Cannot create a staging directory in the restore target \(target): every name tried exists.")
    }

    /// Moves what the driver restored into the target; returns the job's warnings (entries left in the
    /// staging directory). The staging directory is removed when it is empty.
    func moveIntoPlace() throws -> [String] {
        var kept: [String] = []
        do {
            try merge(from: staging, into: targetDirectory, path: "", kept: &kept)
        } catch let error as EngineError {
            // What was restored is not thrown away: say where the part not moved yet is.
            throw EngineError(error.code, String(error.message.dropLast()) + "; what was not moved yet is in \(stagingPath).")
        }
        if kept.isEmpty {
            if unlinkat(targetDirectory, name, AT_REMOVEDIR) != 0 {
                return ["The staging directory \(stagingPath) could not be removed: \(Self.reason(errno))."]
            }
            return []
        }
        let count = kept.count == 1 ? "1 path" : "\(kept.count) paths"
        return ["\(count) of the snapshot could not be put in place because a directory stands there on disk, another file system is mounted there, or the name starts with \(Self.prefix) (first: \(kept[0])); they are in \(stagingPath)."]
    }

    /// Removes the staging directory and what it holds (after a stopped restore); returns the job's warning
    /// when part of it could not be removed.
    func discard() -> [String] {
        var failed: [String] = []
        Self.removeTree(name, in: targetDirectory, path: stagingPath, failed: &failed)
        guard let first = failed.first else { return [] }
        return ["The staging directory \(stagingPath) could not be removed entirely: \(first)\(failed.count > 1 ? " and \(failed.count - 1) more" : "")."]
    }

    /// The directory Hen just created: a directory of ours, mode 0700, empty. The link count is 2 on most
    /// file systems and 1 on those that do not count subdirectories (btrfs); emptiness is checked as well,
    /// since a link or file inside would not change the count.
    private static func isFreshlyCreated(_ directory: Int32) -> Bool {
        var info = stat()
        guard fstat(directory, &info) == 0 else { return false }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid(), info.st_mode & 0o7777 == 0o700,
              info.st_nlink == 2 || info.st_nlink == 1 else { return false }
        return (try? names(in: directory))?.isEmpty == true
    }

    /// The target, or its outermost missing parent: every directory a restore into `target` creates is below
    /// it (what a watch must ignore while the restore runs).
    static func outermostCreated(_ target: String) -> String {
        var path = target
        while true {
            let parent = (path as NSString).deletingLastPathComponent
            var info = stat()
            guard parent != path, lstat(parent, &info) != 0, errno == ENOENT else { return path }
            path = parent
        }
    }

    // MARK: Opening the target

    /// The target opened from the allowed directory's real location down, no component a link.
    static func openBelow(_ location: RestoreTarget.Location, target: String) throws -> Int32 {
        var current = open(location.allowedReal, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if current < 0, errno == ENOENT {
            // The allowed directory itself comes from the configuration, which is trusted: created as written.
            try? FileManager.default.createDirectory(atPath: location.allowedReal, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            current = open(location.allowedReal, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        guard current >= 0 else {
            throw EngineError(.invalidRequest, "The allowed restore directory \(location.allowed) cannot be opened: \(reason(errno)).")
        }
        var reached = location.allowed
        for component in location.below {
            reached = (reached == "/" ? "" : reached) + "/" + component
            var next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT {
                if mkdirat(current, component, 0o700) != 0, errno != EEXIST {
                    let why = Self.reason(errno)
                    close(current)
                    throw EngineError(.invalidRequest, "The restore target \(target) cannot be created: \(reached): \(why).")
                }
                next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else {
                let error = errno
                close(current)
                if error == ELOOP || error == ENOTDIR {
                    throw EngineError(.invalidRequest, "The restore target \(target) changed before the restore started: \(reached) is now a symbolic link or not a directory, so nothing was restored.")
                }
                throw EngineError(.invalidRequest, "The restore target \(target) cannot be opened: \(reached): \(reason(error)).")
            }
            close(current)
            current = next
        }
        return current
    }

    /// The administrator's target, created when missing and opened as given (links in it followed).
    private static func openAnywhere(_ target: String) throws -> Int32 {
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw EngineError(.invalidRequest, "The restore target \(target) cannot be created: \(error.localizedDescription)")
        }
        let directory = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            throw EngineError(.invalidRequest, "The restore target \(target) cannot be opened: \(reason(errno)).")
        }
        return directory
    }

    // MARK: Moving into place

    private func merge(from source: Int32, into destination: Int32, path: String, kept: inout [String]) throws {
        for entry in try Self.names(in: source) {
            let relative = path + "/" + Self.display(entry)
            // Hen's own name: never put in place, so that no restore can plant a staging directory of its own.
            if Self.display(entry).hasPrefix(Self.prefix) {
                kept.append(relative)
                continue
            }
            try place(entry, from: source, into: destination, relative, kept: &kept)
        }
    }

    /// Puts one entry in place. When something appears there between the look and the rename (another
    /// restore into the same target), the decision is made again from what stands there now.
    private func place(_ entry: [CChar], from source: Int32, into destination: Int32, _ relative: String, kept: inout [String]) throws {
        for _ in 0..<8 {
            var existing = stat()
            guard fstatat(destination, entry, &existing, AT_SYMLINK_NOFOLLOW) == 0 else {
                guard errno == ENOENT else { throw Self.failure("inspect", relative, errno) }
                if try move(entry, from: source, into: destination, relative, kept: &kept) { return }
                continue
            }
            var restored = stat()
            guard fstatat(source, entry, &restored, AT_SYMLINK_NOFOLLOW) == 0 else { throw Self.failure("inspect", relative, errno) }
            let restoredIsDirectory = restored.st_mode & S_IFMT == S_IFDIR
            if existing.st_mode & S_IFMT == S_IFDIR {
                guard restoredIsDirectory else {
                    kept.append(relative)
                    return
                }
                let from = openat(source, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard from >= 0 else { throw Self.failure("open", relative, errno) }
                defer { close(from) }
                // A directory restored read-only (0555) cannot give up its entries to a daemon that is not
                // root: its owner may write while it is emptied (it is removed afterwards).
                fchmod(from, restored.st_mode & 0o7777 | 0o700)
                let into = openat(destination, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                // A directory just seen that is a link now: someone is racing the restore.
                guard into >= 0 else { throw Self.failure("open", relative, errno) }
                defer { close(into) }
                // Likewise a directory on disk left read-only by an earlier restore; its mode is set below.
                fchmod(into, existing.st_mode & 0o7777 | 0o700)
                try merge(from: from, into: into, path: relative, kept: &kept)
                // The snapshot's mode and times on a directory that was there already, as the driver sets them.
                fchmod(into, restored.st_mode & 0o7777)
                let times = [restored.st_atim, restored.st_mtim]
                futimens(into, times)
                if unlinkat(source, entry, AT_REMOVEDIR) != 0, errno != ENOTEMPTY { throw Self.failure("remove", relative, errno) }
                return
            }
            // A file, a link or anything else but a directory is replaced by the snapshot's entry; rename
            // replaces a link itself, never what it points to.
            if restoredIsDirectory, unlinkat(destination, entry, 0) != 0, errno != ENOENT {
                throw Self.failure("replace", relative, errno)
            }
            if try move(entry, from: source, into: destination, relative, kept: &kept) { return }
        }
        throw Self.failure("move", relative, EEXIST)
    }

    /// Renames one entry into place; false when something appeared there meanwhile (decide again).
    private func move(_ entry: [CChar], from source: Int32, into destination: Int32, _ relative: String, kept: inout [String]) throws -> Bool {
        seams.beforeMoving(relative)
        // Moving a directory rewrites its `..`, which needs its owner's write permission (a daemon that is
        // not root, a directory restored 0555): granted for the rename, the snapshot's mode put back after.
        let directory = openat(source, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        var mode: mode_t?
        if directory >= 0 {
            var info = stat()
            if fstat(directory, &info) == 0, info.st_mode & 0o700 != 0o700 {
                mode = info.st_mode & 0o7777
                fchmod(directory, info.st_mode & 0o7777 | 0o700)
            }
        }
        defer {
            if directory >= 0 {
                if let mode { fchmod(directory, mode) }
                close(directory)
            }
        }
        if renameat(source, entry, destination, entry) == 0 { return true }
        switch errno {
        case EXDEV:
            // A mount point below the target: another file system, which rename cannot reach.
            kept.append(relative)
            return true
        case EEXIST, ENOTEMPTY, EISDIR, ENOTDIR:
            return false
        case let error:
            throw Self.failure("move", relative, error)
        }
    }

    private static func failure(_ verb: String, _ relative: String, _ error: Int32) -> EngineError {
        EngineError(.failed, "The restore could not \(verb) \(relative) in place: \(reason(error)).")
    }

    /// The names in a directory (without `.` and `..`), as bytes: file names need not be UTF-8.
    private static func names(in directory: Int32) throws -> [[CChar]] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw EngineError(.failed, "The restore could not read a directory it restored: \(reason(errno)).")
        }
        defer { closedir(stream) }
        // The copy shares the original's position: start from the beginning.
        rewinddir(stream)
        var names: [[CChar]] = []
        while let entry = readdir(stream) {
            var raw = entry.pointee.d_name
            let name: [CChar] = withUnsafeBytes(of: &raw) { bytes in
                let chars = bytes.bindMemory(to: CChar.self)
                return Array(chars.prefix(strnlen(chars.baseAddress!, chars.count))) + [0]
            }
            if name == [46, 0] || name == [46, 46, 0] { continue }
            names.append(name)
        }
        return names
    }

    private static func removeTree(_ entry: [CChar], in directory: Int32, path: String, failed: inout [String]) {
        let opened = openat(directory, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if opened >= 0 {
            // A directory restored read-only (0555) keeps its entries from a daemon that is not root.
            fchmod(opened, 0o700)
            for child in (try? names(in: opened)) ?? [] where unlinkat(opened, child, 0) != 0 {
                let childPath = path + "/" + display(child)
                if errno == EISDIR {
                    removeTree(child, in: opened, path: childPath, failed: &failed)
                } else {
                    failed.append("\(childPath) (\(reason(errno)))")
                }
            }
            close(opened)
        }
        if unlinkat(directory, entry, AT_REMOVEDIR) != 0, errno != ENOTEMPTY || failed.isEmpty {
            failed.append("\(path) (\(reason(errno)))")
        }
    }

    private static func display(_ name: [CChar]) -> String {
        String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func reason(_ error: Int32) -> String {
        String(cString: strerror(error))
    }
}
