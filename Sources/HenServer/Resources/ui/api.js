// The UI's one way to the daemon: /api/v1, JSON, the session cookie. A 401 anywhere brings the login back.

export const BASE = "/api/v1";

/** An API error: the HTTP status and the API's {"error": {"code", "message", "details"?}}. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

const listeners = new Set();
/** Called with no argument whenever an answer is 401 (the session ended, or never was). */
export function onUnauthorized(listener) {
  listeners.add(listener);
}

/** `api("/status")`, `api("/backups/x/backup", {method: "POST", body: {...}})`. Resolves with the JSON (or text). */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json", "X-Hen-Client": "ui" };
  const init = { method, headers, signal, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", "The daemon does not answer; is it running?");
  }
  const type = response.headers.get("Content-Type") || "";
  const payload = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const error = payload && payload.error ? payload.error : { code: "http_" + response.status, message: `The daemon answered ${response.status}.` };
    if (response.status === 401 && path !== "/login") listeners.forEach((listener) => listener());
    throw new ApiError(response.status, error.code, error.message, error.details);
  }
  return payload;
}

/** Every page of a list (`{"items", "next_cursor"}`), up to `max` items. */
export async function all(path, max = 10000) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${separator}limit=1000${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** `/a/b` with each segment encoded, for ids and names in paths. */
export function segment(text) {
  return encodeURIComponent(text);
}

/** Query string from an object, empty values left out. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

/**
 * Server-sent events of `path` (`/events`, `/jobs/ID/events`): `handlers[type](data)` for each event.
 * Returns a function that closes the stream. `closeWhen(data)` true closes it after that event (a job's
 * stream ends with the job; EventSource would otherwise reconnect and replay it).
 */
export function events(path, handlers, closeWhen) {
  const source = new EventSource(BASE + path, { withCredentials: true });
  const types = ["state", "step_started", "step_ended", "progress", "log", "warning"];
  for (const type of types) {
    source.addEventListener(type, (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (handlers[type]) handlers[type](data);
      if (handlers.any) handlers.any(data);
      if (closeWhen && closeWhen(data)) source.close();
    });
  }
  if (handlers.error) source.addEventListener("error", () => handlers.error(source.readyState));
  return () => source.close();
}
