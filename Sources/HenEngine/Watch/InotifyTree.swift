#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import HenDrivers
import Logging

/// The watch descriptors of one inotify instance and the directories they stand for. Owned by the
/// watcher's thread alone, so it needs no lock.
struct InotifyTree {
    struct Watch {
        var path: String
        /// A directory of the tree (its new subdirectories are watched too), or only the parent of
        /// watched files.
        var recursive: Bool
        /// For a parent of watched files: the names that count. `nil`: every entry.
        var names: Set<String>?
    }

    /// Events that count as a change. IN_MODIFY alone does not (a file being written is backed up once
    /// it is closed); IN_ACCESS and IN_OPEN never do.
    static let changeMask = UInt32(IN_CREATE) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO)
        | UInt32(IN_DELETE) | UInt32(IN_DELETE_SELF) | UInt32(IN_ATTRIB)
    /// What each watch asks for: symlinks are not followed (restic stores them as links) and unlinked
    /// files that are still open produce no more events.
    static let watchMask = changeMask | UInt32(IN_ONLYDIR) | 0x0200_0000 /* IN_DONTFOLLOW, not exported by Glibc's module */ | UInt32(IN_EXCL_UNLINK)

    let backup: String
    let descriptor: Int32
    let calls: InotifyCalls
    let excludes: ExcludeMatcher
    let logger: Logger
    let roots: [String]
    private(set) var watches: [Int32: Watch] = [:]
    private var byPath: [String: Int32] = [:]

    init(backup: String, descriptor: Int32, calls: InotifyCalls, excludes: ExcludeMatcher, logger: Logger, roots: [String]) {
        self.backup = backup
        self.descriptor = descriptor
        self.calls = calls
        self.excludes = excludes
        self.logger = logger
        self.roots = roots
    }

    /// Watches every root: a directory with all its subdirectories, anything else (a file, a link, a
    /// path that does not exist yet) through its parent directory.
    mutating func addRoots() throws(WatchDegradation) {
        var ignored: WatchBatch?
        for root in roots where !excludes.excludes(root) {
            var status = stat()
            if lstat(root, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
                try addTree(root, reporting: &ignored, limit: 0)
            } else {
                let parent = WatchPath.parent(of: root)
                if try !addWatch(parent, recursive: false, names: [WatchPath.name(of: root)]) {
                    logger.warning(
                        "A path of the backup cannot be watched: neither it nor its directory exists; changes to it are not seen until the daemon restarts.",
                        metadata: ["backup": "\(backup)", "path": "\(root)"]
                    )
                }
            }
        }
    }

    /// Watches `directory` and every directory below it that is not excluded. With `batch`, reports
    /// every entry found: they may have been created before the watch existed.
    mutating func addTree(_ directory: String, reporting batch: inout WatchBatch?, limit: Int) throws(WatchDegradation) {
        var pending = [directory]
        while let current = pending.popLast() {
            guard try addWatch(current, recursive: true, names: nil) else { continue }
            guard let handle = opendir(current) else { continue }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                }
                if name == "." || name == ".." { continue }
                let path = WatchPath.join(current, name)
                if excludes.excludes(path) { continue }
                batch?.add(path, limit: limit)
                var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
                if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                    var status = stat()
                    isDirectory = lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
                }
                if isDirectory { pending.append(path) }
            }
        }
    }

    /// Applies one event: keeps the watches in step with the tree and adds what counts to `batch`.
    mutating func handle(_ event: InotifyEvent, isSuppressed: (String) -> Bool, into batch: inout WatchBatch, limit: Int) throws(WatchDegradation) {
        if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
            batch.overflow = true
            // Directories created while events were lost are not watched yet.
            try addRoots()
            return
        }
        guard let watch = watches[event.watch] else { return }
        if event.mask & UInt32(IN_IGNORED) != 0 {
            forget(event.watch)
            return
        }
        if let names = watch.names {
            guard !event.name.isEmpty, names.contains(event.name) else { return }
        }
        let path = event.name.isEmpty ? watch.path : WatchPath.join(watch.path, event.name)
        if excludes.excludes(path) { return }
        let suppressed = isSuppressed(path)
        let isDirectory = event.mask & UInt32(IN_ISDIR) != 0
        if isDirectory, !event.name.isEmpty {
            if event.mask & UInt32(IN_MOVED_FROM) != 0 {
                // Its watches would keep the old paths; if it moves within the tree it is added again.
                removeTree(path)
            }
            if event.mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                // Counted before the watches are added: if the kernel's limit stops that, the change still counts.
                if !suppressed { batch.add(path, limit: limit) }
                var found: WatchBatch? = suppressed ? nil : WatchBatch()
                try addTree(path, reporting: &found, limit: limit)
                if let found {
                    for child in found.paths { batch.add(child, limit: limit) }
                    batch.count += max(0, found.count - found.paths.count)
                }
                return
            }
        }
        if event.mask & Self.changeMask != 0, !suppressed {
            batch.add(path, limit: limit)
        }
        if event.mask & UInt32(IN_DELETE_SELF) != 0, event.name.isEmpty, watch.recursive, roots.contains(path) {
            // A watched directory itself was removed: watch for it to come back through its parent.
            _ = try addWatch(WatchPath.parent(of: path), recursive: false, names: [WatchPath.name(of: path)])
        }
    }

    /// Adds (or refreshes) a watch. False when the directory cannot be watched (gone, not a directory,
    /// not readable): the backup reports such paths itself. Throws when the kernel's limit is reached.
    private mutating func addWatch(_ path: String, recursive: Bool, names: Set<String>?) throws(WatchDegradation) -> Bool {
        switch calls.addWatch(descriptor, path, Self.watchMask) {
        case .success(let wd):
            var watch = Watch(path: path, recursive: recursive, names: names)
            if let existing = watches[wd] {
                // The same directory as a root and as the parent of a watched file: the wider wins.
                if existing.path != path { byPath[existing.path] = nil }
                watch.recursive = existing.recursive || recursive
                if watch.recursive || existing.names == nil || names == nil {
                    watch.names = nil
                } else {
                    watch.names = existing.names!.union(names!)
                }
            }
            watches[wd] = watch
            byPath[path] = wd
            return true
        case .failure(let failure):
            switch failure.errno {
            case ENOSPC:
                throw WatchDegradation.watchLimit(backup: backup, path: path)
            case ENOENT, ENOTDIR, ELOOP:
                return false
            default:
                logger.debug("A directory cannot be watched.", metadata: [
                    "backup": "\(backup)", "path": "\(path)", "error": "\(String(cString: strerror(failure.errno)))",
                ])
                return false
            }
        }
    }

    /// Drops the watches of `directory` and everything below it.
    private mutating func removeTree(_ directory: String) {
        for (path, wd) in byPath where WatchPath.isWithin(path, directory) {
            if let watch = watches[wd], !watch.recursive { continue }
            calls.removeWatch(descriptor, wd)
            forget(wd)
        }
    }

    private mutating func forget(_ wd: Int32) {
        guard let watch = watches.removeValue(forKey: wd) else { return }
        if byPath[watch.path] == wd { byPath[watch.path] = nil }
    }
}
