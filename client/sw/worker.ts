// The service worker's side: the events that start a sync (Background Sync `sync`, Periodic
// Background Sync `periodicsync`, a page's `message`, `activate`, optionally navigations), and
// the loop each starts per outbox — wait for the sync lock a while, one pass, back off, again —
// until the outbox is empty or the event's time is up. One loop per outbox at a time.
import { backoffDelayMs } from "../backoff";
import { WaystationError } from "../errors";
import { countOutbox, type PassResult, syncOutboxOnce } from "./drain";
import { checkRegistration, outboxKey, type OutboxRegistration, PERIODIC_SYNC_TAG, type PageMessage, SYNC_TAG, type WorkerReply } from "./protocol";
import { forgetRegistration, listRegistrations, recordEvent, recordRun, saveRegistration } from "./registrations";

/** The parts of ServiceWorkerGlobalScope used here (the DOM lib has no service-worker types). */
export interface SyncWorkerScope {
  addEventListener(type: string, listener: (event: never) => void): void;
  skipWaiting?(): Promise<void>;
  clients?: { claim(): Promise<void> };
  location?: { href: string };
  navigator?: { locks?: LockManager };
}

interface ExtendableEvent {
  waitUntil(promise: Promise<unknown>): void;
}
interface SyncEvent extends ExtendableEvent {
  tag: string;
}
interface MessageEventLike extends ExtendableEvent {
  data: unknown;
  ports?: readonly MessagePort[];
}
interface FetchEventLike extends ExtendableEvent {
  request: { mode: string };
}

export interface SyncWorkerOptions {
  /** The origin's lock manager; default the service worker's `navigator.locks`. Null: no lock. */
  locks?: LockManager | null;
  fetch?: typeof fetch;
  /** How to get a token for an outbox; default its registration's `token`, else its `tokenUrl`. */
  getToken?: (outbox: OutboxRegistration) => string | Promise<string>;
  /**
   * How long one event keeps at it (waiting for a tab's lock, backing off) before it lets the
   * service worker sleep; default 150,000 ms (Chromium ends a sync event after 3 minutes).
   */
  eventBudgetMs?: number;
  /** The longest wait for the lock before counting the outbox again (a tab may have drained it); default 10,000 ms. */
  lockWaitMs?: number;
  /** Backoff between passes that left actions pending; defaults 1,000 ms and 10,000 ms. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  requestTimeoutMs?: number;
  /** Also sync when a page of the scope is navigated to (the page's own client syncs too); default false. */
  syncOnFetch?: boolean;
}

/** What a run did for one outbox: drained, or left actions pending when its time was up. */
export interface OutboxOutcome {
  url: string;
  dbName: string;
  drained: boolean;
  acked: number;
  rejected: number;
  pending: number | null;
  error?: { code: string; message: string };
}

export interface SyncWorker {
  /** Syncs every registered outbox (joins the loops already running); resolves when each is drained or out of time. */
  run(trigger: string, budgetMs?: number): Promise<OutboxOutcome[]>;
}

interface Loop {
  deadline: number;
  /** The events that started or joined it. */
  triggers: Set<string>;
  promise: Promise<OutboxOutcome>;
  wake: () => void;
}

/**
 * Installs the sync handlers on the service worker's global scope.
 *
 * @example
 * // sw.js, bundled by the app (or use the ready-made /waystation-sw.js)
 * import { installSyncWorker } from "waystation/sw";
 * installSyncWorker(self);
 */
export function installSyncWorker(scope: SyncWorkerScope = globalThis as unknown as SyncWorkerScope, options: SyncWorkerOptions = {}): SyncWorker {
  const budgetMs = options.eventBudgetMs ?? 150_000;
  const locks = options.locks !== undefined ? options.locks : (scope.navigator?.locks ?? (globalThis.navigator as Navigator | undefined)?.locks ?? null);
  const loops = new Map<string, Loop>();

  const run = async (trigger: string, budget = budgetMs): Promise<OutboxOutcome[]> => {
    await recordEvent({ type: trigger, at: Date.now() }).catch(() => {}); // diagnostics only
    const outboxes = await listRegistrations();
    const deadline = Date.now() + budget;
    return Promise.all(
      outboxes.map((outbox) => {
        const key = outboxKey(outbox.dbName, outbox.url);
        const running = loops.get(key);
        if (running) {
          // A later event extends the loop already running and cuts its wait short.
          running.deadline = Math.max(running.deadline, deadline);
          running.triggers.add(trigger);
          running.wake();
          return running.promise;
        }
        const loop: Loop = { deadline, triggers: new Set([trigger]), wake: () => {}, promise: Promise.resolve(null as never) };
        loop.promise = syncLoop(outbox, trigger, loop).finally(() => loops.delete(key));
        loops.set(key, loop);
        return loop.promise;
      }),
    );
  };

  const syncLoop = async (outbox: OutboxRegistration, trigger: string, loop: Loop): Promise<OutboxOutcome> => {
    const outcome: OutboxOutcome = { url: outbox.url, dbName: outbox.dbName, drained: false, acked: 0, rejected: 0, pending: null };
    for (let attempt = 0; ; attempt++) {
      if (!(await stillRegistered(outbox))) return { ...outcome, drained: true }; // forgotten (logout): not ours to sync
      const waiting = await countOutbox(outbox);
      if (waiting === 0) return { ...outcome, drained: true, pending: 0 };
      const lockWait = new AbortController();
      const timer = setTimeout(() => lockWait.abort(), Math.max(0, Math.min(options.lockWaitMs ?? 10_000, loop.deadline - Date.now())));
      let result: PassResult;
      try {
        const stillWanted = () => stillRegistered(outbox);
        result = await syncOutboxOnce(outbox, { locks, signal: lockWait.signal, fetch: options.fetch, getToken: options.getToken, requestTimeoutMs: options.requestTimeoutMs, stillWanted });
      } finally {
        clearTimeout(timer);
      }
      outcome.acked += result.acked;
      outcome.rejected += result.rejected;
      outcome.pending = result.pending ?? waiting;
      if (result.error) outcome.error = result.error;
      else delete outcome.error;
      if (result.locked) await record(outbox, trigger, [...loop.triggers], result);
      if (result.pending === 0) return { ...outcome, drained: true };
      if (Date.now() >= loop.deadline) return outcome;
      // Not locked: a tab holds the lock and syncs; look again soon (it may close). Locked with
      // actions left: the server did not rule (offline, 401, 5xx…): back off, or wait as it asked.
      const backoff = result.locked ? backoffDelayMs(attempt + 1, { baseMs: options.retryBaseMs ?? 1000, maxMs: options.retryMaxMs ?? 10_000 }, Math.random) : 0;
      const delay = Math.max(backoff, (result.retryAt ?? 0) - Date.now());
      await sleep(Math.min(delay, loop.deadline - Date.now()), loop);
    }
  };

  listen(scope, "install", () => void scope.skipWaiting?.());
  listen<ExtendableEvent>(scope, "activate", (event) => {
    event.waitUntil(scope.clients?.claim() ?? Promise.resolve());
    // Not waited on: activation must not wait for a sync (it holds back the pages' requests).
    void run("activate", Math.min(budgetMs, 60_000)).catch(() => {});
  });
  listen<SyncEvent>(scope, "sync", (event) => {
    if (event.tag !== SYNC_TAG) return;
    // Rejected while actions are left: the browser fires the event again later, with its own backoff.
    event.waitUntil(run("sync").then(assertDrained));
  });
  listen<SyncEvent>(scope, "periodicsync", (event) => {
    if (event.tag === PERIODIC_SYNC_TAG) event.waitUntil(run("periodicsync"));
  });
  listen<MessageEventLike>(scope, "message", (event) => event.waitUntil(answer(event, run, scope.location?.href)));
  listen<FetchEventLike>(scope, "fetch", (event) => {
    if (options.syncOnFetch && event.request.mode === "navigate") event.waitUntil(run("fetch", Math.min(budgetMs, 60_000)).catch(() => {}));
  });
  // Back online (where the service worker hears it): try the waiting loops now.
  listen(scope, "online", () => loops.forEach((loop) => loop.wake()));
  return { run };
}

async function answer(event: MessageEventLike, run: SyncWorker["run"], base: string | undefined): Promise<void> {
  const message = event.data as PageMessage | null;
  const reply = (answer: WorkerReply) => event.ports?.[0]?.postMessage(answer);
  if (!message || typeof message !== "object" || typeof message.type !== "string" || !message.type.startsWith("waystation:")) return; // the app's own messages
  let sync = true;
  try {
    if (message.type === "waystation:configure") await saveRegistration(checkRegistration(message.outbox, base));
    else if (message.type === "waystation:forget") {
      await forgetRegistration(message.dbName, message.url);
      sync = false;
    } else if (message.type !== "waystation:sync") throw new WaystationError("invalid_request", `Unknown message type ${String((message as { type: unknown }).type)}`);
    reply({ ok: true });
  } catch (error) {
    const e = error instanceof WaystationError ? error : new WaystationError("invalid_request", String((error as Error)?.message ?? error));
    reply({ ok: false, error: { code: e.code, message: e.message } });
    return;
  }
  // Stands by while pages have actions pending: when the last tab closes, it takes the lock over.
  if (sync) await run("message").catch(() => {});
}

function assertDrained(outcomes: OutboxOutcome[]): void {
  const left = outcomes.filter((o) => !o.drained);
  if (left.length > 0) throw new WaystationError("unavailable", `Actions still pending in ${left.map((o) => o.dbName).join(", ")}: ${left[0]!.error?.code ?? "the lock stayed with a tab"}`);
}

async function stillRegistered(outbox: OutboxRegistration): Promise<boolean> {
  return (await listRegistrations()).some((o) => o.dbName === outbox.dbName && o.url === outbox.url);
}

async function record(outbox: OutboxRegistration, trigger: string, triggers: string[], result: PassResult): Promise<void> {
  try {
    await recordRun({ url: outbox.url, dbName: outbox.dbName, trigger, triggers, at: Date.now(), acked: result.acked, rejected: result.rejected, pending: result.pending ?? 0, locked: result.locked, ...(result.error ? { error: result.error } : {}) });
  } catch {
    // the record is diagnostics only
  }
}

function sleep(ms: number, loop: Loop): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      loop.wake = () => {};
      resolve();
    }
    loop.wake = done;
  });
}

function listen<E>(scope: SyncWorkerScope, type: string, listener: (event: E) => void): void {
  scope.addEventListener(type, listener as (event: never) => void);
}
