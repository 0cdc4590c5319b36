// Jobs: the queue in the order it runs (with cancel), the history with filters and pages, and one job's
// page: its steps as a timeline, warnings, error, results, a log that grows while it runs, cancel, run again.
import { api, all, events, segment, query } from "./api.js";
import { h, fill, time, badge, plural, notice, size, duration, finishedStates, jobTitle, trigger } from "./dom.js";
import { progressBlock, update } from "./progress.js";

const states = ["queued", "running", "succeeded", "warning", "failed", "cancelled", "timed_out", "interrupted"];
const operations = ["backup", "prune", "check", "restore", "forget", "init", "unlock"];
const writes = ["backup", "prune", "forget", "unlock", "init"];

export async function renderJobs(main, app, params) {
  const filters = { state: params.get("state") || "", operation: params.get("operation") || "", backup: params.get("backup") || "" };
  const cursor = params.get("cursor") || "";
  const queueSection = h("section", { "aria-labelledby": "queue-title" });
  const historyBody = h("div", { class: "history" });

  async function loadQueue() {
    const status = await app.refreshStatus();
    const rows = [
      ...status.running.map((entry) => entry.record),
      ...status.queued,
    ];
    fill(queueSection, h("h2", { id: "queue-title" }, "Queue"),
      rows.length === 0 ? h("p", { class: "muted" }, "Nothing is running or queued.") :
        h("div", { class: "table-scroll" }, h("table", {},
          h("thead", {}, h("tr", {}, ["#", "Job", "State", "Priority", "Trigger", "Queued", ""].map((title) => h("th", { scope: "col" }, title)))),
          h("tbody", {}, rows.map((job) => h("tr", { dataset: { job: job.id } },
            h("td", {}, job.state === "running" ? "now" : String(status.queued.indexOf(job) + 1)),
            h("td", {}, h("a", { href: `#/jobs/${segment(job.id)}` }, jobTitle(job)), h("div", { class: "muted mono small" }, job.id)),
            h("td", {}, badge(job.state)),
            h("td", {}, job.priority),
            h("td", {}, trigger(job.trigger)),
            h("td", {}, time(job.queued_at)),
            h("td", {}, cancelButton(job, loadQueue))))))));
  }

  async function loadHistory() {
    const page = await api("/jobs" + query({ ...filters, cursor, limit: 50 }));
    const backups = await all("/backups");
    const select = (name, label, values, current) => h("label", {}, label, " ",
      h("select", { name }, h("option", { value: "" }, "any"), values.map((value) => h("option", { value, selected: value === current }, value.replace("_", " ")))));
    const form = h("form", {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        app.go("#/jobs" + query({ state: data.get("state"), operation: data.get("operation"), backup: data.get("backup") }));
      },
      onchange: () => form.requestSubmit(),
    }, select("state", "State", states, filters.state), select("operation", "Operation", operations, filters.operation),
    select("backup", "Backup", backups.map((backup) => backup.name), filters.backup),
    h("button", { type: "submit" }, "Filter"));
    fill(historyBody, form,
      page.items.length === 0 ? h("p", { class: "muted" }, "No job matches.") :
        h("div", { class: "table-scroll" }, h("table", {},
          h("thead", {}, h("tr", {}, ["Job", "State", "Trigger", "Started", "Took", "Warnings"].map((title) => h("th", { scope: "col" }, title)))),
          h("tbody", {}, page.items.map((job) => h("tr", { dataset: { job: job.id } },
            h("td", {}, h("a", { href: `#/jobs/${segment(job.id)}` }, jobTitle(job)), h("div", { class: "muted mono small" }, job.id)),
            h("td", {}, badge(job.state)),
            h("td", {}, trigger(job.trigger)),
            h("td", {}, time(job.started_at || job.queued_at)),
            h("td", {}, job.started_at && job.ended_at ? duration((new Date(job.ended_at) - new Date(job.started_at)) / 1000) : "—"),
            h("td", {}, job.warnings.length ? String(job.warnings.length) : "—")))))),
      h("nav", { class: "pager", "aria-label": "Pages of the history" },
        cursor ? h("a", { href: "#/jobs" + query(filters) }, "← Newest") : null,
        page.next_cursor ? h("a", { href: "#/jobs" + query({ ...filters, cursor: page.next_cursor }), rel: "next" }, "Older →") : null));
  }

  let timer = null;
  app.on((event) => {
    if (event.type !== "state") return;
    clearTimeout(timer);
    timer = setTimeout(() => Promise.all([loadQueue(), loadHistory()]).catch(() => {}), 300);
  });
  app.onLeave(() => clearTimeout(timer));
  await Promise.all([loadQueue(), loadHistory()]);
  fill(main, h("h1", { tabindex: "-1" }, "Jobs"), queueSection, h("section", { "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "History"), historyBody));
}

function cancelButton(job, after) {
  if (finishedStates.includes(job.state)) return null;
  return h("button", {
    type: "button",
    class: "danger",
    "aria-label": `Cancel ${jobTitle(job)}`,
    onclick: async (event) => {
      event.target.disabled = true;
      event.target.textContent = "Cancelling…";
      try {
        await api(`/jobs/${segment(job.id)}/cancel`, { method: "POST" });
      } catch (error) {
        if (error.code !== "conflict") alert(error.message);
      }
      after && after();
    },
  }, "Cancel");
}

/** The route that queues this job's operation again, or null when there is none (init, forget). */
function again(job) {
  const request = job.request || {};
  if (request.backup) return [`/backups/${segment(request.backup.backup)}/backup`, request.backup.repositories ? { repositories: request.backup.repositories } : {}];
  if (request.prune) return [`/backups/${segment(request.prune.backup)}/prune`, {}];
  if (request.check) return [`/repositories/${segment(request.check.repository)}/check`, request.check.read_data_subset ? { read_data_subset: request.check.read_data_subset } : {}];
  if (request.unlock) return [`/repositories/${segment(request.unlock.repository)}/unlock`, {}];
  if (request.restore) return ["/restores", { repository: request.restore.repository, snapshot: request.restore.snapshot, target: request.restore.target, paths: request.restore.includes }];
  return null;
}

export async function renderJob(main, app, id) {
  let job = await api(`/jobs/${segment(id)}`);
  const head = h("div", { class: "job-head" });
  const actions = h("div", { class: "actions" });
  const progress = progressBlock(job);
  const stepsList = h("ol", { class: "timeline" });
  const details = h("div");
  const log = h("pre", { class: "log", tabindex: "0", "aria-label": "Log" });
  const steps = new Map(job.steps.map((step) => [step.id, step]));

  function renderHead() {
    fill(head,
      h("h1", { tabindex: "-1" }, jobTitle(job), " ", badge(job.state)),
      h("dl", { class: "facts inline" },
        h("dt", {}, "Job"), h("dd", { class: "mono" }, job.id),
        h("dt", {}, "Trigger"), h("dd", {}, trigger(job.trigger)),
        h("dt", {}, "Priority"), h("dd", {}, job.priority),
        h("dt", {}, "Queued"), h("dd", {}, time(job.queued_at)),
        h("dt", {}, "Started"), h("dd", {}, time(job.started_at)),
        h("dt", {}, job.ended_at ? "Ended" : "Running for"), h("dd", {}, job.ended_at ? time(job.ended_at) : job.started_at ? duration((Date.now() - new Date(job.started_at)) / 1000) : "—"),
        job.repositories.length ? [h("dt", {}, "Repositories"), h("dd", {}, job.repositories.join(", "))] : null));
    const rerun = again(job);
    fill(actions,
      cancelButton(job, null),
      finishedStates.includes(job.state) && rerun && !(app.readOnly && writes.includes(job.operation)) ? h("button", {
        type: "button",
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const answer = await api(rerun[0], { method: "POST", body: rerun[1] });
            app.go(`#/jobs/${segment(answer.job.id)}`);
          } catch (error) {
            fill(actions, notice("error", error.message));
          }
        },
      }, "Run again") : null);
    progress.hidden = job.state !== "running";
    update(progress, job.progress, job.state);
  }

  function renderSteps() {
    fill(stepsList, [...steps.values()].map((step) => h("li", { class: `step step-${step.state}` },
      h("div", { class: "step-head" }, badge(step.state), " ", h("strong", {}, step.name)),
      h("div", { class: "muted small" }, step.started_at ? time(step.started_at) : null, step.ended_at && step.started_at ? ` · took ${duration((new Date(step.ended_at) - new Date(step.started_at)) / 1000)}` : null),
      step.message ? h("p", { class: "step-message" }, step.message) : null,
      step.hook && step.hook.output ? h("details", {}, h("summary", {}, "Hook output"), h("pre", { class: "log" }, step.hook.output)) : null)));
    if (steps.size === 0) fill(stepsList, h("li", { class: "muted" }, job.state === "queued" ? "Waiting in the queue." : "No steps recorded."));
  }

  function renderDetails() {
    const results = job.results.map((result) => {
      const facts = [];
      if (result.snapshot_id) facts.push(["Snapshot", h("a", { class: "mono", href: `#/browse/${segment(result.repository)}/${segment(result.snapshot_id)}` }, result.snapshot_id.slice(0, 8))]);
      if (result.files_new !== undefined && result.files_new !== null) facts.push(["Files", `${result.files_new} new, ${result.files_changed} changed, ${result.files_unmodified} unchanged`]);
      else if (result.files_processed !== undefined && result.files_processed !== null) facts.push(["Files", `${result.files_processed} backed up`]);
      if (result.bytes_added !== undefined && result.bytes_added !== null) facts.push(["Added", size(result.bytes_added)]);
      if (result.bytes_processed !== undefined && result.bytes_processed !== null) facts.push(["Processed", size(result.bytes_processed)]);
      if (result.files_restored !== undefined && result.files_restored !== null) facts.push(["Restored", `${result.files_restored} files, ${size(result.bytes_restored)}`]);
      if (result.snapshots_removed) facts.push(["Removed", plural(result.snapshots_removed.length, "snapshot")]);
      if (result.check_errors && result.check_errors.length) facts.push(["Check errors", result.check_errors.join("; ")]);
      return h("div", { class: "result" }, h("h3", {}, result.repository), h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])));
    });
    fill(details,
      job.error ? notice("error", h("strong", {}, "Error: "), job.error) : null,
      job.warnings.length ? notice("warning", h("strong", {}, plural(job.warnings.length, "warning")), h("ul", {}, job.warnings.map((warning) => h("li", {}, warning)))) : null,
      results.length ? h("section", {}, h("h2", {}, "Results"), results) : null);
  }

  function appendLog(line) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(h("span", { class: `log-${line.level}` }, `${line.time.slice(11, 19)} ${line.level.padEnd(7)} ${line.message}\n`));
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  renderHead();
  renderSteps();
  renderDetails();
  for (const line of job.log) appendLog(line);
  fill(main, head, actions, progress, h("section", { "aria-labelledby": "steps-title" }, h("h2", { id: "steps-title" }, "Steps"), stepsList), details,
    h("section", { "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Log"), log));

  if (!finishedStates.includes(job.state)) {
    // The job's own stream replays its steps and log, then follows it; the log is rebuilt from it.
    let replaying = true;
    const stop = events(`/jobs/${segment(id)}/events`, {
      step_started: (event) => { steps.set(event.step.id, event.step); renderSteps(); },
      step_ended: (event) => { steps.set(event.step.id, event.step); renderSteps(); },
      log: (event) => {
        if (replaying) { log.replaceChildren(); replaying = false; }
        appendLog(event.line);
      },
      progress: (event) => update(progress, event.progress, "running"),
      state: (event) => {
        replaying = false;
        job = event.job || job;
        job.state = event.state;
        renderHead();
        renderDetails();
        if (finishedStates.includes(event.state)) renderSteps();
      },
    }, (event) => event.type === "state" && finishedStates.includes(event.state));
    app.onLeave(stop);
    const ticker = setInterval(() => { if (job.state === "running") renderHead(); }, 5000);
    app.onLeave(() => clearInterval(ticker));
  }
}
