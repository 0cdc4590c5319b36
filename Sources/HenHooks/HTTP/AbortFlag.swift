import Synchronization

/// Set by task cancellation, read by libcurl's callbacks on the transfer thread.
final class AbortFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
