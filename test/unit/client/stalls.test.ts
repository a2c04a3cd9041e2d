// Regression tests of issue 13, items 5 and 7: syncing never stops for good (slow uploads, a
// clock set back, no AbortSignal.timeout, seq_gap answers in a row, a hung getToken, Safari's
// lost IndexedDB connection, a missing stream record, a full quota) and costs what it should
// (dead letters counted without loading them, batch reads that stop at the byte limit).
import FDBDatabase from "fake-indexeddb/lib/FDBDatabase";
import FDBObjectStore from "fake-indexeddb/lib/FDBObjectStore";
import { openDB } from "idb";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { Client, RejectedEvent } from "../../../client/index";
import { error } from "./fake-station";
import { BASE_URL, makeClient, startStationServer, TOKEN, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];
const restores: (() => void)[] = [];

function client(options: Parameters<typeof makeClient>[0] = {}): Client {
  const c = makeClient(options);
  clients.push(c);
  return c;
}

async function drained(c: Client, timeoutMs = 5000) {
  await waitFor(async () => (await c.pending()).length === 0, "the outbox to drain", timeoutMs);
}

const bodies = (station: string) => server.station(station).log.map((m) => m.body);

/** A fetch whose request hangs (until aborted) when `hangs(body)`, or answers after `delayMs(body)`. */
function slowFetch(options: { hangs?: (body: string) => boolean; delayMs?: (body: string) => number }): typeof fetch {
  return (input, init) => {
    const body = String(init?.body ?? "");
    return new Promise<Response>((resolve, reject) => {
      const signal = init?.signal;
      const abort = () => reject(new DOMException("The operation was aborted.", "AbortError"));
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      if (options.hangs?.(body)) return;
      setTimeout(() => {
        signal?.removeEventListener("abort", abort);
        fetch(input, { ...init, signal: undefined }).then(resolve, reject);
      }, options.delayMs?.(body) ?? 0);
    });
  };
}

afterEach(async () => {
  while (restores.length > 0) restores.pop()!();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
  server.state.refuse = () => undefined;
  vi.restoreAllMocks();
});
afterAll(() => server.close());

describe("syncing that must not stop for good (issue 13, item 5)", () => {
  it("waits longer for a bigger upload: the timeout grows with the body", async () => {
    // 50 bytes per ms: a 15 KB batch takes 300 ms to answer, three times the plain timeout.
    const c = client({ requestTimeoutMs: 100, fetch: slowFetch({ delayMs: (body) => body.length / 50 }) });
    const st = c.station("slow-link");
    await Promise.all(Array.from({ length: 15 }, (_, i) => st.enqueue({ i, pad: "x".repeat(1000) })));
    await drained(c, 10_000);
    expect(bodies("slow-link").map((b) => (b as { i: number }).i)).toEqual([...Array(15).keys()]);
  });

  it("sends smaller batches after a timeout, until one gets through", async () => {
    // A link that never answers a request over 8 KB (say a proxy that stalls big uploads).
    const c = client({ requestTimeoutMs: 100, fetch: slowFetch({ hangs: (body) => body.length > 8_000 }) });
    const st = c.station("stalling-link");
    await Promise.all(Array.from({ length: 24 }, (_, i) => st.enqueue({ i, pad: "x".repeat(1000) })));
    await drained(c, 20_000);
    expect(bodies("stalling-link").map((b) => (b as { i: number }).i)).toEqual([...Array(24).keys()]);
    const sizes = server.requests.filter((r) => r.station === "stalling-link").map((r) => r.seqs.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
  }, 30_000);

  it("backs off on a monotonic clock: a wall clock set back an hour does not stall the stream", async () => {
    const c = client({ backoffBaseMs: 300, backoffMaxMs: 300 });
    server.faults.push({ kind: "network" });
    await c.station("clock").enqueue("x");
    await waitFor(() => c.status.state === "offline" && c.status.retryAt !== undefined, "the first failure's backoff");
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => realNow() - 60 * 60 * 1000);
    await waitFor(() => bodies("clock").length === 1, "the retry after the backoff", 3000);
  });

  it("works where AbortSignal.timeout and AbortSignal.any are missing (Safari before 16)", async () => {
    const { timeout, any } = AbortSignal as unknown as { timeout?: unknown; any?: unknown };
    Object.defineProperty(AbortSignal, "timeout", { value: undefined, configurable: true, writable: true });
    Object.defineProperty(AbortSignal, "any", { value: undefined, configurable: true, writable: true });
    restores.push(() => {
      Object.defineProperty(AbortSignal, "timeout", { value: timeout, configurable: true, writable: true });
      Object.defineProperty(AbortSignal, "any", { value: any, configurable: true, writable: true });
    });
    const c = client();
    await c.station("old-safari").enqueue("x");
    await drained(c);
    expect(bodies("old-safari")).toEqual(["x"]);
  });

  it("moves the producer again after seq_gap answers that came before, once it backed off (the counter resets)", async () => {
    const c = client();
    const st = c.station("gaps");
    await st.enqueue("a");
    await drained(c);
    // Three confused seq_gap answers (they name the seq we sent), then the station is reset.
    const confused = { kind: "status" as const, status: 409, body: error("seq_gap", "confused", { expectedSeq: 2, receivedSeq: 2 }) };
    server.faults.push(confused, confused, confused, { kind: "run", run: () => server.station("gaps").reset() });
    await st.enqueue("b");
    await waitFor(() => bodies("gaps").includes("b"), "b stored under a new producer", 5000);
    const producer = await c.producerId("gaps");
    expect(server.station("gaps").log.map((m) => [m.producer, m.seq, m.body])).toEqual([[producer, 1, "b"]]);
  });

  it("bounds getToken: a call that never settles is given up and asked again", async () => {
    let calls = 0;
    const c = client({ requestTimeoutMs: 150, getToken: () => (++calls === 1 ? new Promise<string>(() => undefined) : TOKEN) });
    await c.station("hung-token").enqueue("x");
    await drained(c);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(bodies("hung-token")).toEqual(["x"]);
  });

  it('reopens the database after Safari\'s "connection to IndexedDB lost" (UnknownError)', async () => {
    const opened: object[] = [];
    const open = indexedDB.open.bind(indexedDB);
    indexedDB.open = ((...args: Parameters<IDBFactory["open"]>) => {
      const request = open(...args);
      request.addEventListener("success", () => opened.push(request.result));
      return request;
    }) as IDBFactory["open"];
    restores.push(() => (indexedDB.open = open));
    const c = client({ dbName: "lost-connection" });
    const st = c.station("lost");
    await st.enqueue("before");
    await waitFor(() => bodies("lost").length === 1, "the first delivery");
    // Every connection opened so far is dead from now on, as WebKit leaves it (bug 197050).
    const dead = new Set(opened);
    const transaction = FDBDatabase.prototype.transaction;
    FDBDatabase.prototype.transaction = function (this: object, ...args: unknown[]) {
      if (dead.has(this)) throw new DOMException("Connection to Indexed Database server lost. Refresh the page to try again", "UnknownError");
      return (transaction as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof transaction;
    restores.push(() => (FDBDatabase.prototype.transaction = transaction));
    const { seq } = await st.enqueue("after");
    expect(seq).toBe(2);
    await waitFor(() => bodies("lost").length === 2, "the second delivery");
  });

  it("recreates a missing stream record (and producer) rather than counting its actions as 0", async () => {
    server.faults.push(...Array(20).fill({ kind: "network" }));
    const c = client({ dbName: "missing-record", backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    const st = c.station("orphan");
    await st.enqueue("a");
    await st.enqueue("b");
    await waitFor(() => server.requests.length > 0, "a first attempt");
    const db = await openDB("missing-record");
    await db.delete("streams", `${BASE_URL} orphan`);
    await db.delete("meta", "producer");
    db.close();
    // Counted from the entries themselves while the network still fails, not silently 0.
    expect((await c.flush()).pending).toBe(2);
    server.faults.length = 0;
    await c.flush();
    await waitFor(() => bodies("orphan").length === 2, "both actions delivered");
    expect(bodies("orphan")).toEqual(["a", "b"]);
    await drained(c);
    // Enqueues after the repair go on after the old entries, under the recreated producer.
    expect((await st.enqueue("c")).seq).toBe(3);
    await waitFor(() => bodies("orphan").length === 3, "the next action delivered");
    expect(new Set(server.station("orphan").log.map((m) => m.producer)).size).toBe(1);
  });

  it("under a full quota, settles what the station stored and dead-letters a refused action once there is room", async () => {
    server.faults.push({ kind: "network" });
    server.station("full").config.schema = (body) => (body === "bad" ? "bad" : null);
    const c = client({ backoffBaseMs: 100, backoffMaxMs: 100 });
    const rejected: RejectedEvent[] = [];
    c.on("rejected", (e) => rejected.push(e));
    const st = c.station("full");
    await st.enqueue("a");
    await st.enqueue("bad");
    await st.enqueue("c");
    // The disk is full: every write that needs space fails; deletes still work.
    let full = true;
    for (const method of ["add", "put"] as const) {
      const original = FDBObjectStore.prototype[method];
      FDBObjectStore.prototype[method] = function (this: any, ...args: any[]) {
        if (full) {
          const raw = this._rawObjectStore;
          const store = raw.storeRecord;
          raw.storeRecord = () => {
            raw.storeRecord = store;
            throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
          };
        }
        return (original as any).apply(this, args);
      } as any;
      restores.push(() => (FDBObjectStore.prototype[method] = original));
    }
    await waitFor(() => bodies("full").length === 2, "a and c stored");
    await waitFor(async () => (await st.pending()).length === 1, "a and c settled");
    expect((await st.pending()).map((p) => p.body)).toEqual(["bad"]);
    await waitFor(() => c.status.error?.code === "quota_exceeded", "status.error to say the storage is full");
    expect(await c.deadLetters()).toEqual([]);
    full = false;
    await c.flush();
    await waitFor(async () => (await c.deadLetters()).length === 1, "the refused action moved to the dead letters");
    expect((await c.deadLetters()).map((d) => [d.seq, d.body, d.error.code])).toEqual([[2, "bad", "schema_violation"]]);
    expect(rejected.map((e) => e.seq)).toEqual([2]);
    expect(await st.pending()).toEqual([]);
    expect(bodies("full")).toEqual(["a", "c"]);
  });
});

describe("cost (issue 13, item 7)", () => {
  it("counts dead letters without loading them", async () => {
    server.station("counted").config.schema = () => "refused";
    const c = client();
    const st = c.station("counted");
    await Promise.all(Array.from({ length: 30 }, (_, i) => st.enqueue({ i, pad: "x".repeat(2000) })));
    await waitFor(() => c.status.deadLetters === 30, "30 dead letters");
    let loads = 0;
    for (const method of ["get", "getAll", "openCursor"] as const) {
      const original = FDBObjectStore.prototype[method];
      FDBObjectStore.prototype[method] = function (this: FDBObjectStore, ...args: any[]) {
        if (this.name === "dead") loads++;
        return (original as any).apply(this, args);
      } as any;
      restores.push(() => (FDBObjectStore.prototype[method] = original as any));
    }
    for (let i = 0; i < 5; i++) await c.flush();
    expect(c.status.deadLetters).toBe(30);
    expect(loads).toBe(0);
  });

  it("stops reading a batch at the byte limit instead of loading the whole head of the outbox", async () => {
    server.faults.push({ kind: "network" });
    const c = client({ maxBatchBytes: 50_000, backoffBaseMs: 200, backoffMaxMs: 200 });
    const st = c.station("big-entries");
    await Promise.all(Array.from({ length: 120 }, (_, i) => st.enqueue({ i, pad: "x".repeat(10_000) })));
    let loaded = 0;
    const original = FDBObjectStore.prototype.getAll;
    FDBObjectStore.prototype.getAll = function (this: FDBObjectStore, ...args: any[]) {
      const request = (original as any).apply(this, args);
      if (this.name === "outbox") request.addEventListener("success", () => (loaded += request.result.length));
      return request;
    } as any;
    restores.push(() => (FDBObjectStore.prototype.getAll = original));
    await waitFor(() => bodies("big-entries").length === 120, "every action delivered", 10_000);
    const batches = server.requests.filter((r) => r.station === "big-entries" && r.seqs.length > 0).length;
    // About 5 entries fit a batch: each read loads a few more than it sends, never the 120 waiting.
    expect(loaded).toBeLessThan(120 + batches * 8);
  });
});
