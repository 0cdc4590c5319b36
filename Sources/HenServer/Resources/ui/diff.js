// What changed in a snapshot against its parent (the backup's previous snapshot there) or another one: the
// counts, then the changed paths, 200 a page, optionally of one kind only. The daemon makes a diff once and
// keeps it, so the next pages are quick.
import { api, segment, query } from "./api.js";
import { h, fill, time, size, badge, notice } from "./dom.js";

const pageSize = 200;
const kinds = ["added", "removed", "modified"];

function folderOf(path) {
  const parts = path.split("/").filter(Boolean);
  parts.pop();
  return "/" + parts.join("/");
}

export async function renderDiff(main, app, repository, id, params) {
  const against = params.get("against") || "parent";
  const change = kinds.includes(params.get("change")) ? params.get("change") : "";
  const cursor = params.get("cursor") || "";
  const from = Number(params.get("from") || "1");
  const base = `#/diff/${segment(repository)}/${segment(id)}`;
  const link = (extra) => base + query({ against: against === "parent" ? "" : against, change, ...extra });
  const browse = (snapshot, path) => `#/browse/${segment(repository)}/${segment(snapshot.id)}` + query({ path });

  let diff;
  try {
    diff = await api(`/repositories/${segment(repository)}/snapshots/${segment(id)}/diff` + query({ against, change, limit: pageSize, cursor }));
  } catch (error) {
    // No parent (the backup's first snapshot here), or no such snapshot: the daemon's sentence says which.
    if (error.status !== 404 && error.status !== 422) throw error;
    fill(main, h("h1", { tabindex: "-1" }, "What changed"), notice("info", error.message),
      h("p", {}, h("a", { href: `#/browse/${segment(repository)}/${segment(id)}` }, "Browse the snapshot"), " · ",
        h("a", { href: `#/snapshots?repository=${encodeURIComponent(repository)}` }, `Snapshots of ${repository}`)));
    return;
  }
  const { snapshot, against: other } = diff;

  const form = h("form", {
    class: "filters",
    onchange: () => app.go(base + query({ against: against === "parent" ? "" : against, change: new FormData(form).get("change") })),
    onsubmit: (event) => event.preventDefault(),
  }, h("label", {}, "Show ", h("select", { name: "change" },
    h("option", { value: "" }, "every change"),
    kinds.map((kind) => h("option", { value: kind, selected: kind === change }, `${kind} only`)))));

  const rows = diff.items.map((item) => {
    // An added or modified path is in this snapshot; a removed one only in the other.
    const where = item.change === "removed" ? other : snapshot;
    const target = item.type === "directory" ? item.path : folderOf(item.path);
    return h("tr", { dataset: { path: item.path, change: item.change } },
      h("td", {}, badge(item.change)),
      h("td", { class: "name mono" }, h("a", { href: browse(where, target), title: `Open its folder in snapshot ${where.short_id}` }, item.path + (item.type === "directory" ? "/" : ""))),
      h("td", { class: "muted" }, item.type || "—"));
  });

  const shownTo = from + diff.items.length - 1;
  fill(main,
    h("h1", { tabindex: "-1" }, "What changed in snapshot ", h("span", { class: "mono" }, snapshot.short_id)),
    h("p", { class: "muted" }, `${repository} · `, snapshot.backup ? `backup ${snapshot.backup} · ` : "", time(snapshot.time),
      " · against ", against === "parent" ? "its parent " : "snapshot ", h("a", { class: "mono", href: browse(other) }, other.short_id), " (", time(other.time), ")",
      ` · ${diff.method === "driver" ? "the driver's diff" : "compared from the snapshot index"}`),
    h("dl", { class: "facts inline diff-counts" },
      h("dt", {}, "Added"), h("dd", { class: "added" }, String(diff.added)),
      h("dt", {}, "Removed"), h("dd", { class: "removed" }, String(diff.removed)),
      h("dt", {}, "Modified"), h("dd", { class: "modified" }, String(diff.modified)),
      h("dt", {}, "Bytes added"), h("dd", {}, size(diff.bytes_added)),
      h("dt", {}, "Bytes removed"), h("dd", {}, size(diff.bytes_removed))),
    h("p", { class: "muted small" }, "Counts are of files and other entries that are not folders; the list also names the folders added and removed."),
    form,
    diff.items.length === 0 ? notice("info", cursor ? "No more changes." : "Nothing changed.") : h("div", { class: "table-scroll" }, h("table", { class: "diff" },
      h("caption", { class: "visually-hidden" }, `Paths changed in snapshot ${snapshot.short_id}`),
      h("thead", {}, h("tr", {}, ["Change", "Path", "Type"].map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows))),
    h("nav", { class: "pager", "aria-label": "Pages of changes" },
      cursor ? h("a", { href: link({}) }, "← First changes") : null,
      diff.items.length ? h("span", { class: "muted" }, `Changes ${from}–${shownTo}`) : null,
      diff.next_cursor ? h("a", { href: link({ cursor: diff.next_cursor, from: shownTo + 1 }), rel: "next" }, "Next changes →") : null),
    h("p", {}, h("a", { href: browse(snapshot) }, "Browse this snapshot")));
}
