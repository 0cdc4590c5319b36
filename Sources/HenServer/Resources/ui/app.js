// The shell: who we are (session, status), the page for the URL (#/jobs, #/snapshots…), the login when the
// API says 401, one event stream of every job shared by the pages, and the recovery-mode banner.
import { api, events, onUnauthorized } from "./api.js";
import { h, fill, refreshTimes, notice } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderJobs, renderJob } from "./jobs.js";
import { renderSnapshots } from "./snapshots.js";
import { renderBrowser } from "./browser.js";
import { renderDiff } from "./diff.js";
import { renderSettings } from "./settings.js";
import { renderLogin } from "./login.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");

/** What every page may read: the daemon's status (mode, hostname…), the session; `page()` gives each page
 * its own listeners of live events and cleanups, dropped when it is left (or when it is left before it
 * finished loading). */
export const app = {
  status: null,
  session: null,
  get readOnly() {
    return this.status && this.status.mode === "recovery";
  },
  go(hash) {
    location.hash = hash;
  },
  refreshStatus: () => refreshStatus(),
};

let scope = { listeners: new Set(), cleanups: [] };

function page() {
  const mine = { listeners: new Set(), cleanups: [] };
  const view = Object.create(app);
  view.on = (listener) => mine.listeners.add(listener);
  view.onLeave = (cleanup) => mine.cleanups.push(cleanup);
  return [mine, view];
}

const routes = [
  [/^\/?$/, "overview", (view, app) => renderOverview(view, app)],
  [/^\/jobs\/?$/, "jobs", (view, app, _, params) => renderJobs(view, app, params)],
  [/^\/jobs\/([^/]+)$/, "jobs", (view, app, match) => renderJob(view, app, decodeURIComponent(match[1]))],
  [/^\/snapshots\/?$/, "snapshots", (view, app, _, params) => renderSnapshots(view, app, params)],
  [/^\/browse\/([^/]+)\/([^/]+)$/, "snapshots", (view, app, match, params) => renderBrowser(view, app, decodeURIComponent(match[1]), decodeURIComponent(match[2]), params)],
  [/^\/diff\/([^/]+)\/([^/]+)$/, "snapshots", (view, app, match, params) => renderDiff(view, app, decodeURIComponent(match[1]), decodeURIComponent(match[2]), params)],
  [/^\/settings\/?$/, "settings", (view, app) => renderSettings(view, app)],
];

let stopEvents = null;
let generation = 0;

function run(cleanups) {
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup();
    } catch {
      // A page's cleanup must not keep the next page from showing.
    }
  }
}

function leave() {
  run(scope.cleanups);
  scope.listeners.clear();
}

/** Shows the page of the current URL. The page is built aside and shown once loaded (no empty flash);
 * a page left before it loaded is dropped with its listeners. */
async function route() {
  const mine = ++generation;
  leave();
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  const params = new URLSearchParams(search);
  if (!app.session) {
    try {
      app.session = await api("/session");
    } catch (error) {
      return showError(error);
    }
  }
  if (mine !== generation) return;
  if (app.session.auth_required && !app.session.identity) return showLogin();
  document.getElementById("logout").hidden = !app.session.identity;
  if (!app.status) {
    try {
      await refreshStatus();
    } catch (error) {
      if (error.status === 401) return;
      return showError(error);
    }
  }
  startEvents();
  for (const [pattern, section, render] of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    markSection(section);
    const [pageScope, pageApp] = page();
    scope = pageScope;
    const view = h("div", { class: "view" });
    main.setAttribute("aria-busy", "true");
    try {
      await render(view, pageApp, match, params);
    } catch (error) {
      if (mine === generation && error.status !== 401) fill(view, h("h1", { tabindex: "-1" }, "Something went wrong"), notice("error", error.message));
    }
    if (mine !== generation) {
      run(pageScope.cleanups);
      pageScope.listeners.clear();
      return;
    }
    main.setAttribute("aria-busy", "false");
    fill(main, view);
    focusHeading();
    return;
  }
  markSection("");
  fill(main, h("h1", { tabindex: "-1" }, "Not found"), notice("error", "This page does not exist. ", h("a", { href: "#/" }, "Go to the overview.")));
}

function showError(error) {
  fill(main, h("h1", { tabindex: "-1" }, "Something went wrong"), notice("error", error.message));
}

/** After a page change, screen readers and keyboards start at its heading. */
function focusHeading() {
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

function markSection(section) {
  for (const link of document.querySelectorAll("nav.sections a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function refreshStatus() {
  app.status = await api("/status");
  document.getElementById("host").textContent = `${app.status.hostname} · ${app.status.version}`;
  document.body.classList.toggle("read-only", app.readOnly);
  if (app.readOnly) {
    fill(banner, h("strong", {}, "Recovery mode (read-only). "), "Backups, prunes and forgets are turned off; browsing, downloads, restores, checks and restore drills work.");
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  return app.status;
}

function startEvents() {
  if (stopEvents) return;
  stopEvents = events("/events", {
    any: (event) => {
      for (const listener of scope.listeners) listener(event);
    },
  });
}

function showLogin() {
  document.getElementById("logout").hidden = true;
  if (stopEvents) {
    stopEvents();
    stopEvents = null;
  }
  markSection("");
  main.setAttribute("aria-busy", "false");
  renderLogin(main, async (session) => {
    app.session = session;
    app.status = null;
    await route();
  });
}

onUnauthorized(() => {
  if (app.session && app.session.auth_required === false) return;
  app.session = { auth_required: true, identity: null };
  generation += 1;
  leave();
  showLogin();
});

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await api("/logout", { method: "POST" });
  } finally {
    app.session = null;
    app.status = null;
    if (stopEvents) {
      stopEvents();
      stopEvents = null;
    }
    route();
  }
});

window.addEventListener("hashchange", () => {
  document.activeElement && document.activeElement.blur && document.activeElement !== document.body && document.activeElement.blur();
  route();
});
setInterval(refreshTimes, 15000);
route();
