import Metrics
import Foundation

/// The engine's metrics, emitted where things happen, through a swift-metrics factory (the daemon's is
/// Prometheus; tests pass their own). Labels are bounded by the configuration: operation, outcome, backup,
/// repository, hook phase. Never a job id. docs/monitoring.md lists every metric.
public struct EngineMetrics: Sendable {
    public let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Every metric family this type emits, with its `# HELP` text (Prometheus' linter wants one per
    /// family; the unit is in the name: `_seconds`, `_bytes`, counters end in `_total`).
    public static let families: [String: String] = [
        "hen_daemon_info": "Always 1; the labels say which version runs, for which host, in which mode.",
        "hen_jobs_total": "Jobs ended, by operation and outcome (succeeded, warning, failed, cancelled, timed_out, interrupted).",
        "hen_job_retries_total": "Tries after the first of a step that failed for a passing reason (retry:), by operation and repository.",
        "hen_job_duration_seconds": "How long jobs ran, from start to end, by operation.",
        "hen_backup_last_success_timestamp_seconds": "When a backup last succeeded into a repository (Unix time).",
        "hen_backup_last_snapshot_timestamp_seconds": "When the newest snapshot of a backup in a repository was taken (Unix time).",
        "hen_backup_bytes_added_total": "Bytes the repositories grew by, per backup.",
        "hen_backup_files_processed_total": "Files backed up: new, changed and unmodified.",
        "hen_repository_snapshots": "Snapshots of this host in a repository.",
        "hen_repository_last_job_ok": "1 when the last step of any job on a repository succeeded, 0 when it failed.",
        "hen_repository_check_ok": "1 when the last check of a repository found no problem, 0 when it failed.",
        "hen_queue_length": "Jobs waiting in the queue.",
        "hen_jobs_running": "Jobs running now.",
        "hen_hook_failures_total": "Hooks that failed (those with on_failure: ignore too), by backup and phase.",
        "hen_watch_events_total": "File changes the watcher saw, by backup.",
        "hen_watch_triggers_total": "Backups the file watcher queued, by backup.",
        "hen_watches": "Directories watched for changes (inotify watches), by backup.",
        "hen_backup_alarm": "1 while a backup's mass-deletion alarm is raised and not acknowledged, else 0.",
        "hen_backup_alarms_total": "Mass-deletion alarms raised, by backup.",
        "hen_backup_files_removed_total": "Files the backups' new snapshots no longer have against their parents, by backup.",
        "hen_drill_files_total": "Files restore drills sampled, by backup and outcome (matched, differed, skipped).",
        "hen_drill_last_timestamp_seconds": "When a backup's last restore drill ended (Unix time).",
        "hen_drill_last_ok": "1 when a backup's last restore drill found every compared file identical, 0 when it failed.",
    ]

    /// `hen_daemon_info{version,hostname,mode} 1`.
    public func daemonInfo(version: String, hostname: String, mode: String) {
        Gauge(label: "hen_daemon_info", dimensions: [("version", version), ("hostname", hostname), ("mode", mode)], factory: factory).record(1)
    }

    func jobEnded(operation: String, outcome: String, seconds: Double?) {
        Counter(label: "hen_jobs_total", dimensions: [("operation", operation), ("outcome", outcome)], factory: factory).increment()
        if let seconds {
            Timer(label: "hen_job_duration_seconds", dimensions: [("operation", operation)], factory: factory)
                .recordNanoseconds(Int64(max(0, seconds) * 1e9))
        }
    }

    func retried(operation: String, repository: String, count: Int) {
        Counter(label: "hen_job_retries_total", dimensions: [("operation", operation), ("repository", repository)], factory: factory).increment(by: Int64(count))
    }

    func lastSuccess(backup: String, repository: String, at date: Date) {
        Gauge(label: "hen_backup_last_success_timestamp_seconds", dimensions: [("backup", backup), ("repository", repository)], factory: factory)
            .record(date.timeIntervalSince1970)
    }

    func lastSnapshot(backup: String, repository: String, at date: Date) {
        Gauge(label: "hen_backup_last_snapshot_timestamp_seconds", dimensions: [("backup", backup), ("repository", repository)], factory: factory)
            .record(date.timeIntervalSince1970)
    }

    func backedUp(backup: String, bytesAdded: UInt64, filesProcessed: UInt64) {
        Counter(label: "hen_backup_bytes_added_total", dimensions: [("backup", backup)], factory: factory).increment(by: Int64(clamping: bytesAdded))
        Counter(label: "hen_backup_files_processed_total", dimensions: [("backup", backup)], factory: factory).increment(by: Int64(clamping: filesProcessed))
    }

    func snapshotCount(repository: String, count: Int) {
        Gauge(label: "hen_repository_snapshots", dimensions: [("repository", repository)], factory: factory).record(count)
    }

    /// 1 when the repository's last step (of any job) succeeded, 0 when it failed.
    func repositoryOK(repository: String, ok: Bool) {
        Gauge(label: "hen_repository_last_job_ok", dimensions: [("repository", repository)], factory: factory).record(ok ? 1 : 0)
    }

    /// 1 when the repository's last check found no problem, 0 when it failed.
    func checkOK(repository: String, ok: Bool) {
        Gauge(label: "hen_repository_check_ok", dimensions: [("repository", repository)], factory: factory).record(ok ? 1 : 0)
    }

    func queue(queued: Int, running: Int) {
        Gauge(label: "hen_queue_length", factory: factory).record(queued)
        Gauge(label: "hen_jobs_running", factory: factory).record(running)
    }

    func hookFailed(backup: String, phase: String) {
        Counter(label: "hen_hook_failures_total", dimensions: [("backup", backup), ("phase", phase)], factory: factory).increment()
    }

    /// `hen_backup_alarm{backup}`, and a raise counted in `hen_backup_alarms_total`.
    func alarm(backup: String, raised: Bool, counted: Bool = false) {
        Gauge(label: "hen_backup_alarm", dimensions: [("backup", backup)], factory: factory).record(raised ? 1 : 0)
        if counted { Counter(label: "hen_backup_alarms_total", dimensions: [("backup", backup)], factory: factory).increment() }
    }

    func filesRemoved(backup: String, count: Int) {
        Counter(label: "hen_backup_files_removed_total", dimensions: [("backup", backup)], factory: factory).increment(by: Int64(count))
    }

    func drilled(backup: String, matched: Int, differed: Int, skipped: Int) {
        for (outcome, count) in [("matched", matched), ("differed", differed), ("skipped", skipped)] {
            Counter(label: "hen_drill_files_total", dimensions: [("backup", backup), ("outcome", outcome)], factory: factory).increment(by: Int64(count))
        }
    }

    func lastDrill(backup: String, at date: Date, ok: Bool) {
        Gauge(label: "hen_drill_last_timestamp_seconds", dimensions: [("backup", backup)], factory: factory).record(date.timeIntervalSince1970)
        Gauge(label: "hen_drill_last_ok", dimensions: [("backup", backup)], factory: factory).record(ok ? 1 : 0)
    }

    func watchEvents(backup: String, count: Int) {
        Counter(label: "hen_watch_events_total", dimensions: [("backup", backup)], factory: factory).increment(by: Int64(count))
    }

    func watchTriggered(backup: String) {
        Counter(label: "hen_watch_triggers_total", dimensions: [("backup", backup)], factory: factory).increment()
    }

    func watches(backup: String, count: Int) {
        Gauge(label: "hen_watches", dimensions: [("backup", backup)], factory: factory).record(count)
    }
}
