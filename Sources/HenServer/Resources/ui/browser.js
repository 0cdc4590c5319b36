// A snapshot's tree, one directory at a time, in pages of 200 entries (a directory of 10,000 stays quick:
// never more than a page of rows on screen). Files download as they are, folders as tar; selected paths are
// restored to a target inside restore.allowed_targets, and the page then follows the restore's job.
import { api, segment, query, BASE } from "./api.js";
import { h, fill, time, size, mode, plural, notice } from "./dom.js";

const pageSize = 200;

function parentOf(path) {
  const parts = path.split("/").filter(Boolean);
  parts.pop();
  return "/" + parts.join("/");
}

export async function renderBrowser(main, app, repository, id, params) {
  const snapshot = await api(`/repositories/${segment(repository)}/snapshots/${segment(id)}`);
  const path = params.get("path") || (snapshot.paths.length === 1 ? snapshot.paths[0] : "/");
  const cursor = params.get("cursor") || "";
  const from = Number(params.get("from") || "1");
  const page = await api(`/repositories/${segment(repository)}/snapshots/${segment(snapshot.id)}/tree` + query({ path, limit: pageSize, cursor }));
  const base = `#/browse/${segment(repository)}/${segment(snapshot.id)}`;
  const link = (target, extra = {}) => base + query({ path: target, ...extra });
  const download = (target) => `${BASE}/repositories/${segment(repository)}/snapshots/${segment(snapshot.id)}/download` + query({ path: target });
  const selected = new Set();

  const parts = path.split("/").filter(Boolean);
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Folder" }, h("ol", {},
    h("li", {}, parts.length ? h("a", { href: link("/") }, "/") : h("span", { "aria-current": "page" }, "/")),
    parts.map((part, index) => {
      const target = "/" + parts.slice(0, index + 1).join("/");
      return h("li", {}, index === parts.length - 1 ? h("span", { "aria-current": "page" }, part) : h("a", { href: link(target) }, part));
    })));

  const selectionText = h("span", { class: "muted", role: "status" });
  const updateSelection = () => {
    selectionText.textContent = selected.size ? `${plural(selected.size, "entry", "entries")} selected` : `Nothing selected: the whole folder ${path} is restored.`;
  };

  const rows = page.items.map((entry) => {
    const box = h("input", {
      type: "checkbox", "aria-label": `Select ${entry.name}`,
      onchange: (event) => {
        if (event.target.checked) selected.add(entry.path); else selected.delete(entry.path);
        updateSelection();
      },
    });
    const icon = h("span", { class: `type-icon type-${entry.type}`, "aria-hidden": "true" });
    let name;
    if (entry.type === "directory") name = h("a", { href: link(entry.path) }, entry.name + "/");
    else if (entry.type === "file") name = h("a", { href: download(entry.path), download: entry.name, title: `Download ${entry.name}` }, entry.name);
    else name = h("span", {}, entry.name, entry.link_target ? h("span", { class: "muted" }, ` → ${entry.link_target}`) : null);
    return h("tr", { dataset: { path: entry.path, type: entry.type } },
      h("td", { class: "select" }, box),
      h("td", { class: "name" }, icon, name),
      h("td", { class: "num" }, entry.type === "file" ? size(entry.size) : "—"),
      h("td", { class: "mono small" }, mode(entry.mode, entry.type)),
      h("td", {}, time(entry.mtime)),
      h("td", {}, entry.type === "directory" ? h("a", { href: download(entry.path), download: `${entry.name}.tar`, class: "small", "aria-label": `Download ${entry.name} as tar` }, ".tar") : null));
  });

  const target = h("input", { id: "restore-target", name: "target", type: "text", required: true, autocomplete: "off", spellcheck: "false", placeholder: "/srv/restores/today", class: "mono" });
  const restoreMessage = h("div", { role: "status" });
  const restoreForm = h("form", {
    class: "restore",
    onsubmit: async (event) => {
      event.preventDefault();
      const button = restoreForm.querySelector("button");
      button.disabled = true;
      try {
        const paths = selected.size ? [...selected] : path === "/" ? [] : [path];
        const answer = await api("/restores", { method: "POST", body: { repository, snapshot: snapshot.id, paths, target: target.value.trim() } });
        app.go(`#/jobs/${segment(answer.job.id)}`);
      } catch (error) {
        fill(restoreMessage, notice("error", error.message));
        button.disabled = false;
      }
    },
  },
  h("h2", {}, "Restore"),
  h("p", {}, selectionText),
  h("div", { class: "field" }, h("label", { for: "restore-target" }, "Target directory (inside restore.allowed_targets)"), target),
  h("p", { class: "muted small" }, "The snapshot's paths are recreated below the target; files there with the same names are replaced."),
  h("button", { type: "submit", class: "primary" }, "Restore"), restoreMessage);
  updateSelection();

  const shownTo = from + page.items.length - 1;
  fill(main,
    h("h1", { tabindex: "-1" }, "Snapshot ", h("span", { class: "mono" }, snapshot.short_id)),
    h("p", { class: "muted" }, `${repository} · `, snapshot.backup ? `backup ${snapshot.backup} · ` : "", time(snapshot.time), ` · host ${snapshot.host}`),
    crumbs,
    h("div", { class: "toolbar" },
      path !== "/" ? h("a", { href: link(parentOf(path)) }, "↑ Parent folder") : null,
      h("a", { href: download(path), download: path === "/" ? `snapshot-${snapshot.short_id}.tar` : `${parts[parts.length - 1]}.tar` }, "Download this folder (.tar)"),
      h("a", { class: "diff-link", href: `#/diff/${segment(repository)}/${segment(snapshot.id)}` }, "What changed since its parent")),
    page.items.length === 0 ? notice("info", "This folder is empty.") : h("div", { class: "table-scroll" }, h("table", { class: "tree" },
      h("caption", { class: "visually-hidden" }, `Contents of ${path}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Select")), ["Name", "Size", "Mode", "Modified", "Download"].map((title) => h("th", { scope: "col", class: title === "Size" ? "num" : null }, title)))),
      h("tbody", {}, rows))),
    h("nav", { class: "pager", "aria-label": "Pages of this folder" },
      cursor ? h("a", { href: link(path) }, "← First entries") : null,
      page.items.length ? h("span", { class: "muted" }, `Entries ${from}–${shownTo}`) : null,
      page.next_cursor ? h("a", { href: link(path, { cursor: page.next_cursor, from: shownTo + 1 }), rel: "next" }, "Next entries →") : null),
    restoreForm);
}
