// Snapshots per repository, newest first, of this host only (the API confines them). A snapshot whose
// `backup` tag names no configured backup (renamed or removed) is marked, and can be forgotten after a
// confirmation that names the repository and how many snapshots go.
import { api, all, segment, query } from "./api.js";
import { h, fill, time, badge, plural, notice, finishedStates } from "./dom.js";

const pageSize = 100;

export async function renderSnapshots(main, app, params) {
  const wantedBackup = params.get("backup") || "";
  const wantedRepository = params.get("repository") || "";
  const [backups, repositories] = await Promise.all([all("/backups"), all("/repositories")]);
  const known = new Set(backups.map((backup) => backup.name));
  const shown = repositories.filter((repository) => (!wantedRepository || repository.name === wantedRepository)
    && (!wantedBackup || repository.backups.includes(wantedBackup)));

  const form = h("form", {
    class: "filters",
    onchange: () => {
      const data = new FormData(form);
      app.go("#/snapshots" + query({ backup: data.get("backup"), repository: data.get("repository") }));
    },
    onsubmit: (event) => event.preventDefault(),
  },
  h("label", {}, "Backup ", h("select", { name: "backup" }, h("option", { value: "" }, "all"), backups.map((backup) => h("option", { value: backup.name, selected: backup.name === wantedBackup }, backup.name)))),
  h("label", {}, "Repository ", h("select", { name: "repository" }, h("option", { value: "" }, "all"), repositories.map((repository) => h("option", { value: repository.name, selected: repository.name === wantedRepository }, repository.name)))));

  const sections = shown.map((repository) => repositorySection(repository, wantedBackup, known, app));
  fill(main, h("h1", { tabindex: "-1" }, "Snapshots"), form,
    h("p", { class: "muted" }, `Snapshots of host ${app.status.hostname}, newest first.`),
    shown.length === 0 ? notice("info", "No repository matches.") : null,
    sections.map((section) => section.element));
  await Promise.all(sections.map((section) => section.load()));

  let timer = null;
  app.on((event) => {
    if (event.type !== "state" || !finishedStates.includes(event.state) || !event.job) return;
    // A backup, prune or forget changes the list of the repositories it touched.
    if (!["backup", "prune", "forget"].includes(event.job.operation)) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      for (const section of sections) if (event.job.repositories.includes(section.name)) section.load();
    }, 300);
  });
  app.onLeave(() => clearTimeout(timer));
}

function repositorySection(repository, backup, known, app) {
  const body = h("div", { class: "snapshot-list" }, h("p", { class: "muted" }, "Reading the snapshots…"));
  const unknownBox = h("div");
  const element = h("section", { class: "repository", "aria-labelledby": `repo-${repository.name}`, dataset: { repository: repository.name } },
    h("h2", { id: `repo-${repository.name}` }, repository.name, " ", h("span", { class: "muted small" }, `${repository.driver} · ${repository.location}`)),
    unknownBox, body);
  let items = [];
  let next = null;

  function isUnknown(snapshot) {
    return !snapshot.backup || !known.has(snapshot.backup);
  }

  function render() {
    const unknown = items.filter(isUnknown);
    fill(unknownBox, unknown.length && !backup ? notice("warning",
      h("strong", {}, `${plural(unknown.length, "snapshot")} of an unknown backup definition`),
      ` (${[...new Set(unknown.map((snapshot) => snapshot.backup || "no backup tag"))].join(", ")}): no configured backup wrote ${unknown.length === 1 ? "it" : "them"}; the definition was renamed or removed.`,
      app.readOnly ? null : h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: () => confirmForget(unknown) }, `Forget ${plural(unknown.length, "snapshot")}…`))) : null);
    if (items.length === 0) {
      fill(body, h("p", { class: "muted" }, "No snapshots yet."));
      return;
    }
    fill(body, h("div", { class: "table-scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Snapshot", "Time", "Backup", "Paths", "Changes", "Job"].map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, items.map((snapshot) => h("tr", { class: isUnknown(snapshot) ? "row-unknown" : null, dataset: { snapshot: snapshot.id } },
        h("td", {}, h("a", { class: "mono", href: `#/browse/${segment(repository.name)}/${segment(snapshot.id)}`, "aria-label": `Browse snapshot ${snapshot.short_id}` }, snapshot.short_id)),
        h("td", {}, time(snapshot.time)),
        h("td", {}, isUnknown(snapshot) ? [badge("unknown", "unknown backup definition"), " ", h("span", { class: "mono" }, snapshot.backup || "")] : snapshot.backup),
        h("td", { class: "mono small" }, snapshot.paths.join(", ")),
        h("td", {}, h("a", { class: "diff-link small", href: `#/diff/${segment(repository.name)}/${segment(snapshot.id)}`, "aria-label": `What changed in snapshot ${snapshot.short_id}` }, "What changed")),
        h("td", {}, snapshot.job ? h("a", { class: "mono small", href: `#/jobs/${segment(snapshot.job)}` }, snapshot.job) : "—")))))),
    next ? h("button", { type: "button", onclick: () => more() }, "Show older snapshots") : null);
  }

  async function load() {
    try {
      const page = await api("/snapshots" + query({ repository: repository.name, backup, limit: pageSize }));
      items = page.items;
      next = page.next_cursor;
      render();
    } catch (error) {
      if (error.status !== 401) fill(body, notice("error", error.message));
    }
  }

  async function more() {
    const page = await api("/snapshots" + query({ repository: repository.name, backup, limit: pageSize, cursor: next }));
    items = items.concat(page.items);
    next = page.next_cursor;
    render();
  }

  async function confirmForget(seen) {
    // Every such snapshot of the repository, not only the page shown.
    const every = next ? (await all("/snapshots" + query({ repository: repository.name }))).filter(isUnknown) : seen;
    const message = h("div", { class: "dialog-message" });
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "forget-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "forget-title" }, `Forget ${plural(every.length, "snapshot")} in ${repository.name}?`),
        h("p", {}, `${plural(every.length, "snapshot")} of repository `, h("strong", {}, repository.name), " will be forgotten: ",
          h("span", { class: "mono" }, every.map((snapshot) => snapshot.short_id).join(", ")), ". Their data goes at the next prune. This cannot be undone."),
        message,
        h("div", { class: "actions" },
          h("button", { value: "cancel", type: "submit", autofocus: true }, "Keep them"),
          h("button", { value: "forget", type: "submit", class: "danger" }, `Forget ${plural(every.length, "snapshot")}`))));
    document.body.append(dialog);
    dialog.addEventListener("close", async () => {
      dialog.remove();
      if (dialog.returnValue !== "forget") return;
      const jobs = [];
      const failures = [];
      for (const snapshot of every) {
        try {
          jobs.push((await api(`/repositories/${segment(repository.name)}/snapshots/${segment(snapshot.id)}`, { method: "DELETE" })).job);
        } catch (error) {
          failures.push(`${snapshot.short_id}: ${error.message}`);
        }
      }
      fill(unknownBox, failures.length ? notice("error", failures.join(" ")) : null,
        jobs.length ? notice("info", `Forgetting ${plural(jobs.length, "snapshot")}: `, jobs.map((job, index) => [index ? ", " : "", h("a", { class: "mono", href: `#/jobs/${segment(job.id)}` }, job.id)]), ". The list updates when they end.") : null);
    });
    dialog.showModal();
  }

  return { element, load, name: repository.name };
}
