// The demo at `/`: an offline-capable todo list on the SDK. Todos are folded from the station's
// log (acknowledged actions, cached in localStorage for offline reloads) plus the outbox's pending
// actions. "Simulate offline" makes the SDK's fetch fail, in every tab of this origin. A service
// worker (/waystation-sw.js) syncs what is left pending once every tab is closed.
import { type Client, createClient, type DeadLetter, type PendingAction, type Station, type Status } from "../index";
import { registerSyncWorker, type SyncWorkerHandle } from "../sw";

const STATION = "todos";
const TOKEN_KEY = "waystation-demo-token";
const OFFLINE_KEY = "waystation-demo-offline";
const LOG_KEY = "waystation-demo-log";

type Action = { op: "add"; id: string; text: string } | { op: "toggle"; id: string; done: boolean } | { op: "remove"; id: string };
interface Acked {
  offset: number;
  seq: number | null;
  body: Action;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let client: Client | undefined;
let station: Station | undefined;
let token = "";
let acked: Acked[] = loadLog();
let pending: PendingAction[] = [];
let dead: DeadLetter[] = [];
let stationReady = false;
let syncWorker: Promise<SyncWorkerHandle | null> | undefined;

function isOffline(): boolean {
  return localStorage.getItem(OFFLINE_KEY) === "1";
}

/** The fetch the SDK and this page use: fails like a dropped network while the toggle is on. */
const demoFetch: typeof fetch = (input, init) =>
  isOffline() ? Promise.reject(new TypeError("Failed to fetch (simulated offline)")) : fetch(input, init);

function api(method: string, path: string, body?: unknown): Promise<Response> {
  return demoFetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function takeToken(): string {
  const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fragment) {
    sessionStorage.setItem(TOKEN_KEY, fragment);
    history.replaceState(null, "", location.pathname + location.search); // keep it out of history and screenshots
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

function start(): void {
  token = takeToken();
  $("token-form").hidden = token !== "";
  $("app").hidden = token === "";
  if (!token) return;
  client = createClient({ url: location.origin, token, fetch: demoFetch });
  station = client.station(STATION);
  client.on("status", renderStatus);
  client.on("acked", () => void refresh());
  client.on("rejected", () => void refresh());
  renderStatus(client.status);
  void refresh();
  startSyncWorker(client);
}

/**
 * Registers the sync service worker with this tab's token. While "Simulate offline" is on, the
 * worker forgets the outbox: it uses the real network, and would sync behind the toggle's back.
 */
function startSyncWorker(forClient: Client): void {
  const line = $("sw-status");
  syncWorker = registerSyncWorker({ url: location.origin, token, client: forClient }).then(
    async (handle) => {
      if (handle && isOffline()) await handle.forget();
      line.textContent = !handle ? "no service workers in this browser: only open tabs sync"
        : handle.backgroundSync ? "a service worker syncs pending actions after the last tab closes (Background Sync)"
        : "a service worker syncs pending actions while it is alive after the last tab closes (no Background Sync here)";
      line.dataset.state = handle ? "registered" : "unsupported";
      return handle;
    },
    (error: unknown) => {
      line.textContent = `service worker not registered: ${(error as Error).message ?? error}`;
      line.dataset.state = "failed";
      return null;
    },
  );
}

/** Creates the station if it is missing (a demo convenience: the admin token may manage it). */
async function ensureStation(): Promise<void> {
  if (stationReady) return;
  const res = await api("GET", `/v1/stations/${STATION}`);
  if (res.status === 404) {
    const created = await api("PUT", `/v1/stations/${STATION}`, {});
    if (!created.ok) throw new Error(`Could not create the station: ${created.status} ${await created.text()}`);
  } else if (!res.ok) {
    throw new Error(res.status === 401 ? "The token was refused (401): forget it and enter another." : `GET station: ${res.status}`);
  }
  stationReady = true;
  void client?.flush();
}

/** Reads what the station acknowledged since the last read (the log is the truth). */
async function readLog(): Promise<void> {
  let from = (acked[acked.length - 1]?.offset ?? 0) + 1;
  for (;;) {
    const res = await api("GET", `/v1/stations/${STATION}/messages?from=${from}&limit=1000`);
    if (!res.ok) throw new Error(`Reading the log: ${res.status}`);
    const { messages, nextOffset } = (await res.json()) as { messages: { offset: number; seq: number | null; body: Action }[]; nextOffset: number };
    acked.push(...messages.map((m) => ({ offset: m.offset, seq: m.seq, body: m.body })));
    if (messages.length === 0 || nextOffset === from) break;
    from = nextOffset;
  }
  localStorage.setItem(LOG_KEY, JSON.stringify(acked.slice(-2000)));
}

let refreshing: Promise<void> | undefined;
let again = false;
function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      if (!client || !station) return;
      [pending, dead] = await Promise.all([station.pending(), station.deadLetters()]);
      render();
      if (!isOffline()) {
        try {
          await ensureStation();
          await readLog();
          showError("");
        } catch (error) {
          if (!(error instanceof TypeError)) showError(String((error as Error).message ?? error));
        }
      }
      render();
    } while (again);
  })().finally(() => (refreshing = undefined));
  return refreshing;
}

function loadLog(): Acked[] {
  try {
    return JSON.parse(localStorage.getItem(LOG_KEY) ?? "[]") as Acked[];
  } catch {
    return [];
  }
}

interface Todo {
  id: string;
  text: string;
  done: boolean;
  /** Some action on it is not acknowledged yet. */
  pending: boolean;
}

function fold(): Todo[] {
  const todos = new Map<string, Todo>();
  const apply = (action: Action, isPending: boolean) => {
    if (action.op === "add") todos.set(action.id, { id: action.id, text: action.text, done: false, pending: isPending });
    const todo = todos.get(action.id);
    if (!todo) return;
    if (action.op === "toggle") todo.done = action.done;
    if (action.op === "remove") todos.delete(action.id);
    todo.pending ||= isPending;
  };
  for (const a of acked) apply(a.body, false);
  for (const p of pending) apply(p.body as Action, true);
  return [...todos.values()];
}

function render(): void {
  const list = $("todos");
  const todos = fold();
  list.replaceChildren(
    ...todos.map((todo) => {
      const li = el("li", { className: todo.done ? "done" : "" });
      const box = el("input", { type: "checkbox", checked: todo.done, title: "done" });
      box.addEventListener("change", () => void enqueue({ op: "toggle", id: todo.id, done: box.checked }));
      const remove = el("button", { type: "button", textContent: "×", title: "remove", className: "remove" });
      remove.addEventListener("click", () => void enqueue({ op: "remove", id: todo.id }));
      li.append(box, el("span", { textContent: todo.text }), el("span", { className: `badge ${todo.pending ? "pending" : "acked"}`, textContent: todo.pending ? "pending" : "synced" }), remove);
      return li;
    }),
  );
  $("todos-empty").hidden = todos.length > 0;

  const rows = [
    ...pending.map((p) => ({ state: "pending", seq: String(p.seq), offset: "", body: p.body })).reverse(),
    ...acked.slice(-50).reverse().map((a) => ({ state: "acked", seq: String(a.seq ?? ""), offset: String(a.offset), body: a.body })),
  ];
  $("actions").replaceChildren(
    ...rows.map((r) => {
      const tr = el("tr", { className: r.state });
      tr.append(el("td", { textContent: r.state }), el("td", { textContent: r.seq }), el("td", { textContent: r.offset }), el("td", { textContent: describe(r.body as Action) }));
      return tr;
    }),
  );

  $("dead-section").hidden = dead.length === 0;
  $("dead").replaceChildren(
    ...dead.map((d) => {
      const li = el("li");
      const retry = el("button", { type: "button", textContent: "Retry" });
      retry.addEventListener("click", () => void client?.retryDeadLetter(d.deadLetterId).then(refresh));
      const drop = el("button", { type: "button", textContent: "Drop" });
      drop.addEventListener("click", () => void client?.dropDeadLetter(d.deadLetterId).then(refresh));
      li.append(el("span", { textContent: `#${d.seq} ${describe(d.body as Action)} — ${d.error.code}: ${d.error.message}` }), retry, drop);
      return li;
    }),
  );
}

function renderStatus(status: Status): void {
  const badge = $("status-state");
  badge.textContent = status.state;
  badge.className = `badge state-${status.state}`;
  const parts = [`${status.pending} pending`, status.leader ? "this tab syncs" : "another tab syncs"];
  if (status.deadLetters) parts.push(`${status.deadLetters} dead letters`);
  if (status.error) parts.push(`last error: ${status.error.code}`);
  $("status-text").textContent = parts.join(" · ");
  $<HTMLInputElement>("offline-toggle").checked = isOffline();
  void refresh();
}

function describe(action: Action): string {
  if (action.op === "add") return `add “${action.text}”`;
  if (action.op === "toggle") return `${action.done ? "check" : "uncheck"} ${action.id.slice(0, 8)}`;
  return `remove ${action.id.slice(0, 8)}`;
}

async function enqueue(action: Action): Promise<void> {
  try {
    await station?.enqueue(action);
    await refresh();
  } catch (error) {
    showError(`Not saved: ${(error as Error).message}`);
  }
}

function showError(message: string): void {
  $("error").textContent = message;
  $("error").hidden = message === "";
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $<HTMLInputElement>("token-input").value.trim());
  start();
});
$("add-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("add-input");
  const text = input.value.trim();
  input.value = "";
  if (text) void enqueue({ op: "add", id: crypto.randomUUID(), text });
});
$("offline-toggle").addEventListener("change", (event) => setOffline((event.target as HTMLInputElement).checked));
$("flush").addEventListener("click", () => void client?.flush().then(refresh));
$("persist").addEventListener("click", async () => {
  const kept = await client?.persist();
  $("persist").textContent = kept ? "Data kept" : "Not granted";
});
$("forget-token").addEventListener("click", async () => {
  sessionStorage.removeItem(TOKEN_KEY);
  await (await syncWorker)?.forget().catch(() => {}); // the worker keeps no token the user dropped
  await client?.close();
  client = undefined;
  station = undefined;
  stationReady = false;
  start();
});
// The toggle is shared by the tabs of this origin (the syncing tab may be another one).
addEventListener("storage", (event) => {
  if (event.key !== OFFLINE_KEY) return;
  $<HTMLInputElement>("offline-toggle").checked = isOffline();
  if (!isOffline()) void client?.flush().then(refresh);
});

function setOffline(offline: boolean): void {
  if (offline) localStorage.setItem(OFFLINE_KEY, "1");
  else localStorage.removeItem(OFFLINE_KEY);
  void syncWorker?.then((handle) => (offline ? handle?.forget() : handle?.configure({ token }))).catch(() => {});
  if (!offline) void client?.flush().then(refresh);
}

start();
