// One pass of the service worker over one outbox: it waits for the same Web Lock the tabs use
// (so a tab and the service worker never sync one outbox at once), then runs the SDK's own sync
// engine over every stream of that outbox until each is empty or backing off, and lets go.
import { MAX_BATCH_MESSAGES, MAX_PRODUCE_REQUEST_BYTES } from "../../shared/limits";
import { WaystationError } from "../errors";
import { syncLockName } from "../leader";
import { Connection } from "../outbox/connection";
import { countPending } from "../outbox/queries";
import { SyncEngine } from "../sync";
import { Transport } from "../transport";
import type { OutboxRegistration } from "./protocol";

const KiB = 1024;

export interface PassOptions {
  /** The origin's lock manager (`navigator.locks` in the service worker); null: no lock (every syncer races, still exactly once). */
  locks: LockManager | null;
  /** Gives up waiting for the lock (a tab is syncing) when this aborts. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** How to get a token for this outbox; default: its registration's token or tokenUrl. */
  getToken?: (outbox: OutboxRegistration) => string | Promise<string>;
  requestTimeoutMs?: number;
  /** Asked once the lock is granted (the wait may be long): false skips the pass (the outbox was forgotten meanwhile). */
  stillWanted?: () => Promise<boolean>;
}

export interface PassResult {
  /** False: the lock stayed with a tab until `signal` aborted (that tab syncs). */
  locked: boolean;
  acked: number;
  rejected: number;
  /** Left pending after the pass; null when the pass never held the lock. */
  pending: number | null;
  /** When the server asked to wait until (Retry-After), ms since epoch. */
  retryAt?: number;
  error?: { code: string; message: string };
}

/** Syncs one outbox once, under its sync lock. */
export async function syncOutboxOnce(outbox: OutboxRegistration, options: PassOptions): Promise<PassResult> {
  if (!options.locks) return pass(outbox, options);
  let result: PassResult | undefined;
  try {
    // The lock's callback result is kept by hand: a stand-in lock manager may not return it.
    await options.locks.request(syncLockName(outbox.dbName, outbox.url), { signal: options.signal }, async () => {
      if (options.stillWanted && !(await options.stillWanted())) return;
      result = await pass(outbox, options);
    });
  } catch (error) {
    if ((error as Error)?.name !== "AbortError") throw error;
  }
  return result ?? { locked: false, acked: 0, rejected: 0, pending: null };
}

/** Actions waiting in an outbox, counted without the lock (a read: it settles nothing). */
export async function countOutbox(outbox: OutboxRegistration): Promise<number> {
  const conn = new Connection(outbox.dbName);
  try {
    const streams = await conn.run((db) => countPending(db, outbox.url));
    return streams.reduce((sum, s) => sum + s.pending, 0);
  } finally {
    conn.close();
  }
}

async function pass(outbox: OutboxRegistration, options: PassOptions): Promise<PassResult> {
  const conn = new Connection(outbox.dbName);
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const getToken = options.getToken ? () => options.getToken!(outbox) : outbox.tokenUrl !== undefined ? () => fetchToken(outbox.tokenUrl!, doFetch) : undefined;
  const transport = new Transport({ url: outbox.url, token: outbox.token, getToken, fetch: doFetch, requestTimeoutMs: options.requestTimeoutMs ?? 30_000 });
  const counts = { acked: 0, rejected: 0 };
  const engine = new SyncEngine(
    conn,
    transport,
    {
      url: outbox.url,
      // The client's defaults (client/client.ts).
      limits: { maxMessages: Math.min(500, MAX_BATCH_MESSAGES), maxBytes: Math.min(1024 * KiB, MAX_PRODUCE_REQUEST_BYTES - 64 * KiB) },
      backoff: { baseMs: 500, maxMs: 30_000 },
      // One pass only: the caller decides when to try again (stop() clears the engine's timers).
      syncIntervalMs: 24 * 60 * 60 * 1000,
      random: Math.random,
    },
    {
      acked: (events) => void (counts.acked += events.length),
      rejected: (events) => void (counts.rejected += events.length),
      changed: () => {},
    },
  );
  try {
    await engine.start();
    const status = engine.status();
    const result: PassResult = { locked: true, ...counts, pending: status.pending };
    if (status.error) result.error = { code: status.error.code, message: status.error.message };
    if (status.retryAt !== undefined) result.retryAt = status.retryAt;
    return result;
  } finally {
    engine.stop();
    conn.close();
  }
}

/** The app's token endpoint, called with the browser's cookies: `{"token": "…"}` or the token as plain text. */
export async function fetchToken(tokenUrl: string, doFetch: typeof fetch): Promise<string> {
  const res = await doFetch(tokenUrl, { credentials: "include", headers: { accept: "application/json, text/plain" } });
  const text = (await res.text()).trim();
  if (!res.ok) throw new WaystationError("unauthorized", `The token endpoint answered ${res.status}`, res.status);
  if (text.startsWith("{")) {
    const token = (JSON.parse(text) as { token?: unknown }).token;
    if (typeof token !== "string" || token === "") throw new WaystationError("bad_response", 'The token endpoint answered JSON without a "token" string');
    return token;
  }
  if (text === "") throw new WaystationError("bad_response", "The token endpoint answered an empty body");
  return text;
}
