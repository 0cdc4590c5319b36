// A running job's progress, as the overview and the job page show it: a bar with its percent as text, files,
// bytes, time left and the file being read. Updated in place from `progress` events (no layout jump).
import { h, fill, size, duration, badge } from "./dom.js";

/** An element for a job's progress; `update(element, progress, state)` refreshes it. */
export function progressBlock(job) {
  const element = h("div", { class: "progress-block", dataset: { job: job.id } },
    h("div", { class: "progress-head" }, h("span", { class: "job-state" }), h("span", { class: "percent" })),
    h("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": `Progress of ${job.operation} ${job.target}` }, h("div", { class: "fill" })),
    h("div", { class: "progress-numbers muted" }),
    h("div", { class: "current-file muted mono" }, "\u00a0"),
  );
  update(element, job.progress, job.state);
  return element;
}

export function update(element, progress, state) {
  if (state) {
    fill(element.querySelector(".job-state"), badge(state));
    element.dataset.state = state;
  }
  const bar = element.querySelector(".bar");
  const percentText = element.querySelector(".percent");
  if (!progress) {
    if (state && state !== "running") {
      const done = state === "succeeded" || state === "warning";
      bar.querySelector(".fill").style.width = done ? "100%" : bar.querySelector(".fill").style.width;
      if (done) {
        bar.setAttribute("aria-valuenow", "100");
        percentText.textContent = "100 %";
      }
    }
    return;
  }
  const percent = Math.max(0, Math.min(100, Math.floor((progress.fraction || 0) * 100)));
  const shown = state === "succeeded" || state === "warning" ? 100 : percent;
  bar.querySelector(".fill").style.width = `${shown}%`;
  bar.setAttribute("aria-valuenow", String(shown));
  percentText.textContent = `${shown} %`;
  const parts = [];
  if (shown === 100 && state !== "running") {
    // Finished: the totals, not the last report on the way.
    if (progress.total_files) parts.push(`${progress.total_files} files`);
    if (progress.total_bytes) parts.push(size(progress.total_bytes));
  } else {
    if (progress.files_done !== undefined) parts.push(`${progress.files_done}${progress.total_files ? " of " + progress.total_files : ""} files`);
    if (progress.bytes_done !== undefined) parts.push(`${size(progress.bytes_done)}${progress.total_bytes ? " of " + size(progress.total_bytes) : ""}`);
    if (progress.seconds_remaining !== undefined && progress.seconds_remaining !== null && state === "running") parts.push(`about ${duration(progress.seconds_remaining)} left`);
  }
  element.querySelector(".progress-numbers").textContent = parts.join(" · ") || "\u00a0";
  const current = (progress.current_files || [])[0];
  element.querySelector(".current-file").textContent = current && state === "running" ? current : "\u00a0";
  if (current) element.querySelector(".current-file").title = current;
}
