// Settings: who this daemon is (version, hostname, mode), the configuration in force with its secrets
// redacted, and "Reload configuration", which shows every error of a refused file with its position.
import { api } from "./api.js";
import { h, fill, time, notice, plural } from "./dom.js";

export async function renderSettings(main, app) {
  const [status, session, yaml] = await Promise.all([app.refreshStatus(), api("/session"), api("/config")]);
  const result = h("div", { class: "reload-result", role: "status" });
  const config = h("pre", { class: "config", tabindex: "0", "aria-label": "Configuration in force" }, yaml);
  const button = h("button", {
    type: "button",
    class: "primary",
    onclick: async () => {
      button.disabled = true;
      fill(result, h("p", { class: "muted" }, "Reloading…"));
      try {
        const answer = await api("/config/reload", { method: "POST" });
        fill(result, notice("success",
          h("strong", {}, "Reloaded. "),
          answer.changed.length ? `Changed: ${answer.changed.join(", ")}.` : "Nothing changed.",
          answer.restart_required.length ? h("p", {}, `Takes effect at the next restart: ${answer.restart_required.join(", ")}.`) : null,
          answer.warnings.length ? h("ul", {}, answer.warnings.map((warning) => h("li", {}, warning))) : null));
        fill(config, await api("/config"));
        await app.refreshStatus();
      } catch (error) {
        fill(result, notice("error",
          h("strong", {}, error.details.length ? `The file has ${plural(error.details.length, "error")} and was not loaded; the running configuration stays.` : error.message),
          error.details.length ? h("ul", { class: "issues" }, error.details.map((issue) => h("li", {},
            h("span", { class: "mono position" }, `${issue.file}:${issue.line}:${issue.column}`), " ",
            issue.key_path ? h("code", {}, issue.key_path) : null, issue.key_path ? ": " : "", issue.message))) : null));
      } finally {
        button.disabled = false;
      }
    },
  }, "Reload configuration");

  fill(main,
    h("h1", { tabindex: "-1" }, "Settings"),
    h("section", { "aria-labelledby": "daemon-title" }, h("h2", { id: "daemon-title" }, "Daemon"),
      h("dl", { class: "facts" },
        h("dt", {}, "Version"), h("dd", { class: "version" }, status.version),
        h("dt", {}, "Hostname"), h("dd", { class: "hostname" }, status.hostname),
        h("dt", {}, "Mode"), h("dd", { class: "mode" }, status.mode === "recovery" ? "recovery (read-only)" : "normal"),
        h("dt", {}, "Started"), h("dd", {}, time(status.started_at)),
        h("dt", {}, "Jobs at once"), h("dd", {}, String(status.max_concurrent_jobs)),
        h("dt", {}, "Signed in"), h("dd", {}, session.auth_required ? session.identity || "—" : "no login needed (auth: none)"))),
    h("section", { "aria-labelledby": "config-title" }, h("h2", { id: "config-title" }, "Configuration"),
      h("p", { class: "muted" }, "The configuration in force, defaults filled in; secrets show as ***."),
      h("div", { class: "actions" }, button), result, config));
}
