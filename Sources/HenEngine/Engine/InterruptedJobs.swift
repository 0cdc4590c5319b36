import Foundation
import HenDrivers
import HenProcess
import Logging

/// What a daemon that died while jobs ran left behind, dealt with at the next start (``Engine/recover()``):
/// driver processes of its own still running (a restic's lock is alive, so `restic unlock` would leave it),
/// and interrupted backups whose snapshots were all written before it died.
///
/// A value built from the configuration in force; it holds no state of its own.
struct InterruptedJobs: Sendable {
    /// How long a leftover driver process gets after SIGTERM before SIGKILL, at start.
    static let leftoverGrace: Duration = .seconds(15)
    /// How long start-up waits to list one repository's snapshots for an interrupted backup.
    static let settleTimeout: Duration = .seconds(60)

    let configuration: ConfigurationInForce
    let drivers: RepositoryDrivers
    let writer: StoreWriter
    let clock: any Clock<Duration>
    let logger: Logger

    /// How long start-up waits for dead driver processes to be reaped by whoever inherited them.
    static let zombieTimeout: Duration = .seconds(30)

    /// Processes of this data directory that a previous life of the daemon left running (its death signal
    /// came too late, or they ignore it), as each configured repository's driver recognises its own
    /// (``BackupDriver/leftoverProcesses``; restic's carry `--cache-dir <data_dir>/cache`): each gets
    /// SIGTERM and ``leftoverGrace`` to end, then SIGKILL. Then it waits (at most ``zombieTimeout``) until
    /// the dead ones that nobody has reaped yet are gone: while its pid exists, even as a zombie, restic
    /// takes a lock for alive, and the `unlock` queued next would leave it. Returns how many were stopped.
    func stopLeftoverProcesses() async -> Int {
        var patterns: [LeftoverProcessPattern] = []
        for name in configuration.current.repositories.keys.sorted() {
            guard let pattern = (try? drivers.driver(forRepository: name))?.leftoverProcesses, !patterns.contains(pattern) else { continue }
            patterns.append(pattern)
        }
        var stopped = 0
        for pattern in patterns {
            let leftovers = LeftoverProcesses.find(argument: pattern.argument, value: pattern.value)
            if !leftovers.isEmpty {
                logger.warning("Processes left running by the daemon's previous run are being stopped before the repositories are unlocked.", metadata: [
                    "pids": "\(leftovers.map(\.pid))",
                ])
                let killed = await LeftoverProcesses.stop(leftovers, grace: Self.leftoverGrace)
                if !killed.isEmpty {
                    logger.warning("Leftover processes did not end within \(DurationText.format(Self.leftoverGrace)) of SIGTERM and were killed.", metadata: ["pids": "\(killed)"])
                }
                stopped += leftovers.count
            }
            let zombies = LeftoverProcesses.zombies(named: pattern.program)
            if !zombies.isEmpty {
                let left = await LeftoverProcesses.waitUntilGone(zombies, timeout: Self.zombieTimeout)
                if !left.isEmpty {
                    logger.warning("Ended \(pattern.program) processes are still not reaped after \(DurationText.format(Self.zombieTimeout)); a lock one of them held stays until they are (an init process that reaps orphans, such as tini, avoids this).", metadata: ["pids": "\(left)"])
                }
            }
        }
        return stopped
    }

    /// An interrupted backup whose snapshots were all written before the daemon died (found by their
    /// `job=<id>` tag) did its work: it is recorded `succeeded` with a note and its snapshots as results.
    /// Returns the records changed. A repository that cannot be listed (unreachable, locked) leaves the job
    /// `interrupted`, so it runs again.
    func settle(_ records: [JobRecord]) async -> [JobRecord] {
        var settled: [JobRecord] = []
        for var record in records {
            guard case .backup = record.request, !record.repositories.isEmpty else { continue }
            var found: [RepositoryResult] = []
            for repository in record.repositories {
                if let result = record.results.first(where: { $0.repository == repository && $0.snapshotID != nil }) {
                    found.append(result)
                    continue
                }
                guard let snapshot = await snapshot(taggedWith: record.id, in: repository) else { break }
                found.append(RepositoryResult(repository: repository, snapshotID: snapshot.id))
            }
            guard found.count == record.repositories.count else { continue }
            let ids = found.compactMap(\.snapshotID).map { String($0.prefix(8)) }.joined(separator: ", ")
            record.state = .succeeded
            record.error = nil
            record.results = found
            for index in record.steps.indices where record.steps[index].state == .cancelled && record.steps[index].id.hasPrefix("backup:") {
                record.steps[index].state = .succeeded
                record.steps[index].message = "snapshot written before the daemon stopped"
            }
            record.appendWarning("The daemon stopped while this job ran, after its snapshot\(found.count == 1 ? "" : "s") (\(ids)) had been written: recorded as succeeded at the next start.")
            writer.save(record)
            logger.log(job: record, "Job found interrupted after its snapshots were written: recorded as succeeded.", level: .notice)
            settled.append(record)
        }
        return settled
    }

    /// The snapshot of this host tagged `job=<id>` in a repository, nil when there is none or the listing
    /// fails or takes longer than ``settleTimeout``.
    private func snapshot(taggedWith jobID: String, in repository: String) async -> Snapshot? {
        guard let driver = try? drivers.driver(forRepository: repository) else { return nil }
        let clock = self.clock
        return await withTaskGroup(of: Snapshot?.self) { group in
            group.addTask {
                do {
                    for try await snapshot in driver.snapshots(SnapshotFilter(tags: [SnapshotTag.job(jobID)])) { return snapshot }
                } catch {}
                return nil
            }
            group.addTask {
                try? await clock.sleep(for: Self.settleTimeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
