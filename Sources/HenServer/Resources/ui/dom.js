// Building the page: elements from data without innerHTML (a file name is text, never markup), and the
// formats every page shares: relative times, sizes, durations, states.

/** `h("a", {href, class: "x", onclick}, "text", child…)`. Attributes that are null/false are left out. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content in one step (no flash of an empty container). */
export function fill(element, ...children) {
  const fragment = document.createDocumentFragment();
  append(fragment, children);
  element.replaceChildren(fragment);
  return element;
}

const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
/** 1536 → "1.5 KiB". */
export function size(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** 5400 → "1 h 30 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${seconds % 60 && minutes < 10 ? ` ${seconds % 60} s` : ""}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ""}`;
}

/** "3 h ago", "in 5 min", "just now". */
export function relative(date, now = Date.now()) {
  if (!date) return "never";
  const seconds = Math.round((new Date(date).getTime() - now) / 1000);
  const absolute = Math.abs(seconds);
  if (absolute < 10) return "just now";
  const text = absolute < 60 ? `${absolute} s` : absolute < 3600 ? `${Math.round(absolute / 60)} min` : absolute < 172800 ? `${Math.round(absolute / 3600)} h` : `${Math.round(absolute / 86400)} d`;
  return seconds < 0 ? `${text} ago` : `in ${text}`;
}

const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
export function absolute(date) {
  return date ? absoluteFormat.format(new Date(date)) : "";
}

/** A `<time>` showing the relative time, the absolute one on hover; kept current by `refreshTimes`. */
export function time(date) {
  if (!date) return h("span", { class: "muted" }, "never");
  return h("time", { datetime: date, title: absolute(date), dataset: { relative: "" } }, relative(date));
}

/** Brings every relative time on the page up to date (called every 15 s). */
export function refreshTimes() {
  const now = Date.now();
  for (const element of document.querySelectorAll("time[data-relative]")) {
    element.textContent = relative(element.getAttribute("datetime"), now);
  }
}

const stateIcons = {
  succeeded: "✓", warning: "!", failed: "✕", cancelled: "■", timed_out: "!", interrupted: "↯",
  running: "▶", queued: "…", skipped: "–", ok: "✓", overdue: "!", unknown: "?", never: "–", alarm: "!",
  added: "+", removed: "−", modified: "M",
};
/** A state as text with a colour and a symbol: never colour alone. */
export function badge(state, text) {
  return h("span", { class: `badge state-${state}` }, h("span", { "aria-hidden": "true", class: "icon" }, stateIcons[state] || "•"), " ", text || state.replace("_", " "));
}

/** `0o644` as `rw-r--r--` (a directory with a `d`). */
export function mode(bits, type) {
  if (bits === null || bits === undefined) return "—";
  const flags = "rwxrwxrwx";
  let text = type === "directory" ? "d" : type === "symlink" ? "l" : "-";
  for (let index = 0; index < 9; index += 1) text += bits & (1 << (8 - index)) ? flags[index] : "-";
  return text;
}

export function plural(count, word, many = word + "s") {
  return `${count} ${count === 1 ? word : many}`;
}

/** A message box: kind is error, warning, info or success. */
export function notice(kind, ...children) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

export const finishedStates = ["succeeded", "warning", "failed", "cancelled", "timed_out", "interrupted"];

export function jobTitle(job) {
  return `${job.operation} ${job.target}`;
}

/** A job's trigger (`{"kind": "schedule", "schedule": "every 1h"}`) in words. */
export function trigger(value) {
  if (!value || typeof value !== "object") return String(value || "—");
  if (value.kind === "schedule") return `schedule (${value.schedule})`;
  if (value.kind === "watch") return `watch (${plural(value.count, "change")})`;
  return value.kind;
}
