// The overview: "are my backups fine?" at a glance. One card per backup (paths, repositories with their
// latest snapshot, a raised mass-deletion alarm, last backup, prune and restore drill, next run and why,
// "Back up now" and "Restore drill"), problems first, running jobs live.
import { api, all, segment } from "./api.js";
import { h, fill, time, badge, plural, notice, finishedStates, jobTitle } from "./dom.js";
import { progressBlock, update } from "./progress.js";

const priorities = ["next", "immediate", "superior", "normal", "inferior", "on-idle"];
// The operations on a backup that its card follows live.
const followedOperations = ["backup", "drill"];

export async function renderOverview(main, app) {
  const heading = h("h1", { tabindex: "-1" }, "Overview");
  const summary = h("div", { class: "summary" });
  const running = h("section", { class: "running", "aria-labelledby": "running-title" });
  const cards = h("div", { class: "cards" });
  // Jobs this page started or saw run (backups and drills), by backup: their card shows them live until the
  // page is left.
  const followed = new Map();
  const blocks = new Map();

  async function load() {
    const status = await app.refreshStatus();
    const backups = await all("/backups");
    const details = await Promise.all(backups.map((backup) => api(`/backups/${segment(backup.name)}`)));
    return { status, backups, details };
  }

  function render({ status, backups, details }) {
    const problems = status.problems || [];
    const failedLast = details.filter((detail) => detail.last_jobs.backup && ["failed", "timed_out", "interrupted"].includes(detail.last_jobs.backup.state));
    const unreadable = details.flatMap((detail) => detail.latest_snapshots.filter((latest) => latest.error).map((latest) => latest.repository));
    if (backups.length === 0) {
      fill(summary, notice("info", "No backups are configured. Add one under backups: in the configuration file, then reload it in ", h("a", { href: "#/settings" }, "Settings"), "."));
    } else if (problems.length === 0 && failedLast.length === 0 && unreadable.length === 0) {
      fill(summary, notice("success", h("strong", {}, "All is well. "), `${plural(backups.length, "backup")} up to date; no repository reports a problem.`));
    } else {
      const lines = problems.map((problem) => h("li", {}, problem.message));
      for (const detail of failedLast) {
        if (!problems.some((problem) => problem.subject === detail.name)) lines.push(h("li", {}, `The last backup of ${detail.name} ${detail.last_jobs.backup.state.replace("_", " ")}: ${detail.last_jobs.backup.error || "see its job"}.`));
      }
      for (const repository of new Set(unreadable)) lines.push(h("li", {}, `Repository ${repository} cannot be read.`));
      fill(summary, notice("error", h("strong", {}, `${plural(lines.length, "problem")} need${lines.length === 1 ? "s" : ""} attention.`), h("ul", {}, lines)));
    }

    // A followed job that ended between its answer and its events: its record in the store is newer.
    for (const detail of details) {
      const seen = followed.get(detail.name);
      const last = seen && detail.last_jobs[seen.operation];
      if (seen && last && seen.id === last.id && finishedStates.includes(last.state)) followed.set(detail.name, last);
    }

    // Running jobs, live.
    const runningJobs = status.running.map((entry) => entry.record);
    for (const job of runningJobs) if (followedOperations.includes(job.operation)) followed.set(job.target, job);
    blocks.clear();
    if (runningJobs.length === 0 && status.queued.length === 0) {
      fill(running);
      running.hidden = true;
    } else {
      running.hidden = false;
      fill(running,
        h("h2", { id: "running-title" }, "Running now"),
        runningJobs.length === 0 ? h("p", { class: "muted" }, "Nothing is running.") : h("ul", { class: "plain" }, runningJobs.map((job) => {
          const block = progressBlock(job);
          blocks.set(job.id, [block]);
          return h("li", { class: "running-job" }, h("a", { href: `#/jobs/${segment(job.id)}` }, jobTitle(job)), block);
        })),
        status.queued.length ? h("p", {}, h("a", { href: "#/jobs" }, `${plural(status.queued.length, "job")} queued`), ": ", status.queued.map(jobTitle).join(", "), ".") : null,
      );
    }

    fill(cards, details.map((detail, index) => card(detail, backups[index], status, problems)));
  }

  function card(detail, overview, status, problems) {
    const name = detail.name;
    const overdue = problems.find((problem) => problem.kind === "backup_overdue" && problem.subject === name);
    const last = detail.last_jobs.backup;
    const isRunning = status.running.some((entry) => entry.record.operation === "backup" && entry.record.target === name);
    const alarm = overview.alarm;
    const raised = alarm && !alarm.acknowledged_at ? alarm : null;
    const drill = overview.last_drill;
    const drillFailed = drill && ["failed", "timed_out", "interrupted"].includes(drill.state);
    let health;
    if (isRunning) health = badge("running", "Backing up");
    else if (raised) health = badge("alarm", "Mass-deletion alarm");
    else if (overdue) health = badge("overdue", "Overdue");
    else if (drillFailed) health = badge("failed", "Last drill failed");
    else if (!last) health = badge("never", "Never backed up");
    else if (last.state === "succeeded") health = badge("ok", "OK");
    else if (last.state === "warning") health = badge("warning", "OK, with warnings");
    else if (last.state === "queued") health = badge("queued", "Queued");
    else health = badge(last.state, `Last backup ${last.state.replace("_", " ")}`);

    const repositories = h("table", { class: "compact" },
      h("caption", { class: "visually-hidden" }, `Repositories of ${name}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Repository"), h("th", { scope: "col" }, "Latest snapshot"), h("th", { scope: "col" }, "State"))),
      h("tbody", {}, detail.latest_snapshots.map((latest) => {
        const failed = problems.find((problem) => problem.kind === "repository_failed" && problem.subject === latest.repository);
        let state;
        if (latest.error) state = h("span", { title: latest.error }, badge("failed", "Unreadable"));
        else if (failed) state = h("span", { title: failed.message }, badge("failed", "Last job failed"));
        else state = badge("ok", "OK");
        const snapshot = latest.snapshot;
        return h("tr", { class: latest.error || failed ? "row-problem" : null, dataset: { repository: latest.repository } },
          h("th", { scope: "row" }, h("a", { href: `#/snapshots?repository=${encodeURIComponent(latest.repository)}&backup=${encodeURIComponent(name)}` }, latest.repository)),
          h("td", {}, snapshot ? [h("a", { class: "mono snapshot-id", href: `#/browse/${segment(latest.repository)}/${segment(snapshot.id)}` }, snapshot.short_id), " ", time(snapshot.time)] : h("span", { class: "muted" }, "none yet")),
          h("td", {}, state));
      })));

    const jobLine = (job, word) => job
      ? h("span", {}, h("a", { href: `#/jobs/${segment(job.id)}`, class: "job-link" }, badge(job.state)), " ", time(job.ended_at || job.started_at || job.queued_at),
        job.warnings.length ? h("span", { class: "muted" }, ` · ${plural(job.warnings.length, "warning")}`) : null)
      : h("span", { class: "muted" }, `no ${word} yet`);

    const queuedAt = status.queued.findIndex((job) => job.operation === "backup" && job.target === name);
    const watcher = (status.watchers || []).find((watch) => watch.backup === name);
    const nextRun = detail.next_runs.find((run) => run.operation === "backup");
    let next;
    if (isRunning) next = "running now";
    else if (queuedAt >= 0) next = `queued at position ${queuedAt + 1}`;
    else if (watcher && watcher.pending_trigger) next = h("span", {}, `watch: ${plural(watcher.pending_changes, "change")} pending, backup `, time(watcher.pending_trigger));
    else if (nextRun) next = h("span", { title: nextRun.reason }, time(nextRun.date), h("span", { class: "muted" }, ` (${nextRun.schedule})`));
    else if (app.readOnly) next = h("span", { class: "muted" }, "nothing runs in recovery mode");
    else next = h("span", { class: "muted" }, overview.watched ? "when files change" : "only on demand");

    const live = h("div", { class: "live", "aria-live": "polite" });
    const job = followed.get(name);
    if (job) follow(name, job, live);

    // Drills only read the repository and write below data_dir: recovery mode allows them, not backups.
    const actions = h("div", { class: "card-actions" }, app.readOnly ? null : backupForm(name, overview.priority, live), drillButton(name, live));
    const problem = overdue || raised || drillFailed || (last && ["failed", "timed_out", "interrupted"].includes(last.state));

    return h("article", { class: `card${problem ? " card-problem" : ""}`, "aria-labelledby": `backup-${name}`, dataset: { backup: name } },
      h("header", { class: "card-head" }, h("h2", { id: `backup-${name}` }, name), health),
      overdue ? h("p", { class: "problem-text" }, overdue.message) : null,
      raised ? alarmNotice(raised) : null,
      h("ul", { class: "paths mono", "aria-label": "Paths" }, detail.definition.paths.map((path) => h("li", {}, path))),
      repositories,
      h("dl", { class: "facts" },
        h("dt", {}, "Last backup"), h("dd", { class: "last-backup" }, jobLine(last, "backup")),
        h("dt", {}, "Last prune"), h("dd", {}, detail.definition.retention ? jobLine(detail.last_jobs.prune, "prune") : h("span", { class: "muted" }, "no retention set")),
        h("dt", {}, "Last drill"), h("dd", { class: "last-drill" }, jobLine(drill, "drill"), drillCounts(drill), drillFailed && drill.error ? h("div", { class: "problem-text" }, drill.error) : null),
        alarm && !raised ? [h("dt", {}, "Last alarm"), h("dd", { class: "last-alarm" }, "acknowledged ", time(alarm.acknowledged_at), " · ", diffLink(alarm, `${plural(alarm.removed, "file")} removed`))] : null,
        h("dt", {}, "Next backup"), h("dd", { class: "next-run" }, next)),
      live,
      actions);
  }

  /** A raised alarm: its sentence, what changed, and the acknowledgement that lets prunes run again. */
  function alarmNotice(alarm) {
    const message = h("span", { class: "form-message", role: "status" });
    const button = h("button", {
      type: "button", class: "danger",
      onclick: async () => {
        button.disabled = true;
        try {
          await api(`/backups/${segment(alarm.backup)}/alarm/ack`, { method: "POST", body: {} });
          refresh();
        } catch (error) {
          fill(message, notice("error", error.message));
          button.disabled = false;
        }
      },
    }, "Acknowledge");
    // The sentence starts with "Mass-deletion alarm for backup NAME".
    const box = notice("error", h("strong", {}, alarm.message),
      h("div", { class: "actions" }, diffLink(alarm, "What changed"), button, message));
    box.classList.add("alarm");
    return box;
  }

  function diffLink(alarm, text) {
    return h("a", { class: "diff-link", href: `#/diff/${segment(alarm.repository)}/${segment(alarm.snapshot_id)}` }, text);
  }

  /** "3 matched · 0 differed · 1 skipped", over the drill's repositories. */
  function drillCounts(drill) {
    const counts = drill && drill.results.map((result) => result.drill).filter(Boolean);
    if (!counts || counts.length === 0) return null;
    const sum = (key) => counts.reduce((total, count) => total + count[key], 0);
    return h("span", { class: "muted drill-counts" }, ` · ${sum("matched")} matched · ${sum("differed")} differed · ${sum("skipped")} skipped`);
  }

  function drillButton(name, live) {
    const message = h("span", { class: "form-message", role: "status" });
    const button = h("button", {
      type: "button", class: "drill",
      title: "Restore a sample of the latest snapshots into a private directory and compare them with the sources",
      // No priority: a drill queues behind every backup.
      onclick: () => start(name, "drill", {}, button, message, live),
    }, "Restore drill");
    return [button, message];
  }

  /** Queues a job of the backup (`POST /backups/NAME/ROUTE`) and follows it in the card. */
  async function start(name, route, body, button, message, live) {
    button.disabled = true;
    try {
      const answer = await api(`/backups/${segment(name)}/${route}`, { method: "POST", body });
      follow(name, answer.job, live);
      fill(message);
    } catch (error) {
      fill(message, notice("error", error.message));
    } finally {
      button.disabled = false;
    }
  }

  function follow(name, job, live) {
    followed.set(name, job);
    const block = progressBlock(job);
    blocks.set(job.id, [...(blocks.get(job.id) || []), block]);
    fill(live, h("p", { class: "live-title" }, `${job.operation === "drill" ? "Drill" : "Job"} `, h("a", { href: `#/jobs/${segment(job.id)}`, class: "mono" }, job.id)), block);
  }

  function backupForm(name, configured, live) {
    const select = h("select", { id: `priority-${name}`, name: "priority" },
      h("option", { value: "" }, `Configured (${configured})`),
      priorities.map((priority) => h("option", { value: priority }, priority)));
    const message = h("span", { class: "form-message", role: "status" });
    const button = h("button", { type: "submit", class: "primary" }, "Back up now");
    return h("form", {
      class: "backup-form",
      onsubmit: (event) => {
        event.preventDefault();
        start(name, "backup", select.value ? { priority: select.value } : {}, button, message, live);
      },
    }, h("label", { for: `priority-${name}` }, "Priority"), select, button, message);
  }

  let pending = null;
  let loading = false;
  async function refresh() {
    if (loading) {
      pending = pending || setTimeout(() => { pending = null; refresh(); }, 400);
      return;
    }
    loading = true;
    try {
      render(await load());
    } catch (error) {
      if (error.status !== 401) fill(summary, notice("error", error.message));
    } finally {
      loading = false;
    }
  }

  app.on((event) => {
    if (event.type === "progress") {
      for (const block of blocks.get(event.job_id) || []) update(block, event.progress, "running");
    } else if (event.type === "state") {
      const job = event.job;
      if (job && followedOperations.includes(job.operation) && (followed.has(job.target) || job.state === "running")) followed.set(job.target, job);
      for (const block of blocks.get(event.job_id) || []) update(block, job && job.progress, event.state);
      // What a job changes (last jobs, snapshots, the queue) is read again once it starts or ends.
      if (event.state === "running" || finishedStates.includes(event.state) || event.state === "queued") {
        clearTimeout(pending);
        pending = setTimeout(() => { pending = null; refresh(); }, 300);
      }
    }
  });
  app.onLeave(() => clearTimeout(pending));

  const data = await load();
  fill(main, heading, summary, running, cards);
  render(data);
}
