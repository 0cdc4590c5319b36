import Testing
@testable import HenEngine

@Suite struct JobQueueTests {
    private func entry(_ id: String, _ operation: JobOperation, _ priority: JobPriority = .normal, repositories: [String]? = nil) -> JobQueue.Entry {
        JobQueue.Entry(id: id, operation: operation, priority: priority, repositories: repositories ?? ["r-\(id)"])
    }

    private func backup(_ name: String) -> JobOperation { .backup(backup: name, repositories: nil) }

    /// Starts one job at a time until the queue is empty; returns the order.
    private func drain(_ queue: JobQueue) async -> [String] {
        var order: [String] = []
        while true {
            let started = await queue.takeStartable()
            guard !started.isEmpty else { return order }
            for job in started {
                order.append(job.id)
                await queue.finished(id: job.id)
            }
        }
    }

    @Test func priorityOrderThenFirstInFirstOut() async {
        let queue = JobQueue(maxConcurrentJobs: 1)
        // Occupy the single slot so that everything queues first.
        _ = await queue.enqueue(entry("blocker", backup("blocker")))
        let blocker = await queue.takeStartable()
        #expect(blocker.map(\.id) == ["blocker"])
        for (id, priority) in [("normal1", JobPriority.normal), ("inferior", .inferior), ("idle", .onIdle), ("superior", .superior),
                               ("five", .level(5)), ("normal2", .normal), ("next1", .next), ("next2", .next), ("minus3", .level(-3))] {
            _ = await queue.enqueue(entry(id, backup(id), priority))
        }
        #expect(await queue.takeStartable().isEmpty)
        await queue.finished(id: "blocker")
        #expect(await drain(queue) == ["next1", "next2", "superior", "five", "normal1", "normal2", "minus3", "inferior", "idle"])
    }

    @Test func identicalRequestsAreQueuedOnceAndRaiseThePriority() async {
        let queue = JobQueue(maxConcurrentJobs: 1)
        _ = await queue.enqueue(entry("running", backup("other")))
        _ = await queue.takeStartable()
        #expect(await queue.enqueue(entry("a", backup("docs"), .inferior)) == .queued)
        #expect(await queue.enqueue(entry("b", backup("pics"), .normal)) == .queued)
        #expect(await queue.enqueue(entry("c", backup("docs"), .superior)) == .existing(id: "a", priority: .superior))
        // A lower priority never lowers it.
        #expect(await queue.enqueue(entry("d", backup("docs"), .inferior)) == .existing(id: "a", priority: .superior))
        #expect(await queue.queuedEntries.map(\.id) == ["a", "b"])
        // Same backup on other repositories is another job.
        #expect(await queue.enqueue(entry("e", .backup(backup: "docs", repositories: ["usb"]))) == .queued)
    }

    @Test func aJobAlreadyRunningOrQueuedIsNotQueuedAgain() async {
        // Start recovery re-reads queued records while a just-submitted unlock already runs: enqueueing it a
        // second time would leave a phantom that holds the repository and blocks every later job on it.
        let queue = JobQueue(maxConcurrentJobs: 2)
        _ = await queue.enqueue(entry("unlock", .unlock(repository: "local"), .next, repositories: ["local"]))
        #expect(await queue.takeStartable().map(\.id) == ["unlock"])
        #expect(await queue.enqueue(entry("unlock", .unlock(repository: "local"), .next, repositories: ["local"])) == .existing(id: "unlock", priority: .next))
        _ = await queue.enqueue(entry("backup", backup("docs"), repositories: ["local"]))
        #expect(await queue.enqueue(entry("backup", backup("docs"), .superior, repositories: ["local"])) == .existing(id: "backup", priority: .normal))
        await queue.finished(id: "unlock")
        #expect(await queue.takeStartable().map(\.id) == ["backup"])
    }

    @Test func onIdleWaitsUntilNothingElseIsQueuedOrRunning() async {
        let queue = JobQueue(maxConcurrentJobs: 4)
        _ = await queue.enqueue(entry("idle", backup("idle"), .onIdle))
        _ = await queue.enqueue(entry("work", backup("work"), .inferior))
        #expect(await queue.takeStartable().map(\.id) == ["work"])
        // Nothing queued but something running: still waits, although three slots are free.
        #expect(await queue.takeStartable().isEmpty)
        await queue.finished(id: "work")
        #expect(await queue.takeStartable().map(\.id) == ["idle"])
    }

    @Test func immediateStartsPastTheLimitButNotPastACollision() async {
        let queue = JobQueue(maxConcurrentJobs: 1)
        _ = await queue.enqueue(entry("a", backup("a"), repositories: ["disk"]))
        _ = await queue.enqueue(entry("b", backup("b"), repositories: ["cloud"]))
        #expect(await queue.takeStartable().map(\.id) == ["a"])
        _ = await queue.enqueue(entry("now", backup("now"), .immediate, repositories: ["usb"]))
        #expect(await queue.takeStartable().map(\.id) == ["now"])
        // An immediate check of a repository in use waits for it.
        _ = await queue.enqueue(entry("check", .check(repository: "disk", readDataSubset: nil), .immediate, repositories: ["disk"]))
        #expect(await queue.takeStartable().isEmpty)
        await queue.finished(id: "a")
        // The immediate job runs beside "now" (which does not count against the limit), "b" takes the slot.
        #expect(await queue.takeStartable().map(\.id) == ["check", "b"])
    }

    @Test func exclusiveOperationsNeverShareARepository() async {
        let queue = JobQueue(maxConcurrentJobs: 5, concurrentBackupRepositories: ["shared"])
        _ = await queue.enqueue(entry("backup", backup("docs"), repositories: ["shared", "disk"]))
        _ = await queue.enqueue(entry("prune", .prune(backup: "pics"), .superior, repositories: ["disk"]))
        _ = await queue.enqueue(entry("forget", .forget(repository: "shared", snapshots: ["x"]), repositories: ["shared"]))
        _ = await queue.enqueue(entry("elsewhere", .check(repository: "cloud", readDataSubset: nil), repositories: ["cloud"]))
        // prune is first by priority and takes disk; backup collides with it; forget takes shared.
        #expect(await queue.takeStartable().map(\.id) == ["prune", "forget", "elsewhere"])
        await queue.finished(id: "prune")
        #expect(await queue.takeStartable().isEmpty)
        await queue.finished(id: "forget")
        #expect(await queue.takeStartable().map(\.id) == ["backup"])
    }

    @Test func backupsShareARepositoryOnlyWhenItsDriverAllows() async {
        let queue = JobQueue(maxConcurrentJobs: 5, concurrentBackupRepositories: ["shared"])
        _ = await queue.enqueue(entry("1", backup("one"), repositories: ["shared"]))
        _ = await queue.enqueue(entry("2", backup("two"), repositories: ["shared"]))
        _ = await queue.enqueue(entry("3", backup("three"), repositories: ["single"]))
        _ = await queue.enqueue(entry("4", backup("four"), repositories: ["single"]))
        #expect(await queue.takeStartable().map(\.id) == ["1", "2", "3"])
        // A restore reads: it runs beside backups.
        _ = await queue.enqueue(entry("5", .restore(repository: "single", snapshot: "s", target: "/tmp/x", includes: []), repositories: ["single"]))
        #expect(await queue.takeStartable().map(\.id) == ["5"])
        await queue.finished(id: "3")
        #expect(await queue.takeStartable().map(\.id) == ["4"])
    }
}
