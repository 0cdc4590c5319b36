// The overview: "are my backups fine?" at a glance. One card per backup (paths, repositories with their
// latest snapshot, last backup and prune, next run and why, "Back up now"), problems first, running jobs live.
import { api, all, segment } from "./api.js";
import { h, fill, time, badge, plural, notice, finishedStates, jobTitle } from "./dom.js";
import { progressBlock, update } from "./progress.js";

const priorities = ["next", "immediate", "superior", "normal", "inferior", "on-idle"];

export async function renderOverview(main, app) {
  const heading = h("h1", { tabindex: "-1" }, "Overview");
  const summary = h("div", { class: "summary" });
  const running = h("section", { class: "running", "aria-labelledby": "running-title" });
  const cards = h("div", { class: "cards" });
  // Jobs this page started or saw run, by backup: their card shows them live until the page is left.
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
      const last = detail.last_jobs.backup;
      if (seen && last && seen.id === last.id && finishedStates.includes(last.state)) followed.set(detail.name, last);
    }

    // Running jobs, live.
    const runningJobs = status.running.map((entry) => entry.record);
    for (const job of runningJobs) if (job.operation === "backup") followed.set(job.target, job);
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
    let health;
    if (isRunning) health = badge("running", "Backing up");
    else if (overdue) health = badge("overdue", "Overdue");
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
    if (job) {
      const block = progressBlock(job);
      blocks.set(job.id, [...(blocks.get(job.id) || []), block]);
      fill(live, h("p", { class: "live-title" }, "Job ", h("a", { href: `#/jobs/${segment(job.id)}`, class: "mono" }, job.id)), block);
    }

    const actions = app.readOnly ? null : backupForm(name, overview.priority, live);

    return h("article", { class: `card${overdue || (last && ["failed", "timed_out", "interrupted"].includes(last.state)) ? " card-problem" : ""}`, "aria-labelledby": `backup-${name}`, dataset: { backup: name } },
      h("header", { class: "card-head" }, h("h2", { id: `backup-${name}` }, name), health),
      overdue ? h("p", { class: "problem-text" }, overdue.message) : null,
      h("ul", { class: "paths mono", "aria-label": "Paths" }, detail.definition.paths.map((path) => h("li", {}, path))),
      repositories,
      h("dl", { class: "facts" },
        h("dt", {}, "Last backup"), h("dd", { class: "last-backup" }, jobLine(last, "backup")),
        h("dt", {}, "Last prune"), h("dd", {}, detail.definition.retention ? jobLine(detail.last_jobs.prune, "prune") : h("span", { class: "muted" }, "no retention set")),
        h("dt", {}, "Next backup"), h("dd", { class: "next-run" }, next)),
      live,
      actions);
  }

  function backupForm(name, configured, live) {
    const select = h("select", { id: `priority-${name}`, name: "priority" },
      h("option", { value: "" }, `Configured (${configured})`),
      priorities.map((priority) => h("option", { value: priority }, priority)));
    const message = h("span", { class: "form-message", role: "status" });
    const button = h("button", { type: "submit", class: "primary" }, "Back up now");
    return h("form", {
      class: "card-actions",
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        try {
          const answer = await api(`/backups/${segment(name)}/backup`, { method: "POST", body: select.value ? { priority: select.value } : {} });
          followed.set(name, answer.job);
          const block = progressBlock(answer.job);
          blocks.set(answer.job.id, [...(blocks.get(answer.job.id) || []), block]);
          fill(live, h("p", { class: "live-title" }, "Job ", h("a", { href: `#/jobs/${segment(answer.job.id)}`, class: "mono" }, answer.job.id)), block);
          fill(message);
        } catch (error) {
          fill(message, notice("error", error.message));
        } finally {
          button.disabled = false;
        }
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
      if (job && job.operation === "backup" && (followed.has(job.target) || job.state === "running")) followed.set(job.target, job);
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
