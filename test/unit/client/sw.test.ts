// The sync service worker (client/sw/) on fake-indexeddb and msw: its events drain every stream
// of the outboxes pages registered, each action once; it takes the tabs' sync lock; and answers
// that are not the station's rulings leave actions pending for the next event.
import { http, HttpResponse } from "msw";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Client } from "../../../client/index";
import { countOutbox } from "../../../client/sw/drain";
import { SYNC_TAG } from "../../../client/sw/protocol";
import { lastRuns, REGISTRY_DB } from "../../../client/sw/registrations";
import { installSyncWorker, type SyncWorkerOptions } from "../../../client/sw/worker";
import { asLockManager, BASE_URL, FakeLockManager, makeClient, startStationServer, TOKEN, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];
let dbCounter = 0;

/** The fetch of a tab whose device is offline. */
const offline: typeof fetch = () => Promise.reject(new TypeError("Failed to fetch (offline)"));

/** A service worker's global scope: listeners by type, and events whose waitUntil promises the test gets back. */
class FakeScope {
  readonly location = { href: `${BASE_URL}/` };
  private readonly listeners = new Map<string, ((event: unknown) => void)[]>();
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener as (event: unknown) => void]);
  }
  dispatch(type: string, props: Record<string, unknown> = {}): Promise<unknown>[] {
    const waits: Promise<unknown>[] = [];
    for (const listener of this.listeners.get(type) ?? []) listener({ ...props, waitUntil: (p: Promise<unknown>) => waits.push(p) });
    return waits;
  }
  /** A page's message; resolves with the worker's answer, and the work it goes on with. */
  async post(data: unknown): Promise<{ reply: unknown; done: Promise<unknown> }> {
    let reply: unknown;
    const [done] = this.dispatch("message", { data, ports: [{ postMessage: (r: unknown) => (reply = r) }] });
    void done!.catch(() => {});
    await waitFor(() => reply !== undefined, "the worker's answer");
    return { reply, done: done! };
  }
}

function worker(options: SyncWorkerOptions = {}): FakeScope {
  const scope = new FakeScope();
  installSyncWorker(scope, { locks: null, eventBudgetMs: 2000, lockWaitMs: 50, retryBaseMs: 5, retryMaxMs: 20, ...options });
  return scope;
}

/** A tab that enqueues `counts[station]` actions while offline, then closes; returns its database. */
async function enqueueOfflineAndClose(counts: Record<string, number>, dbName = `sw-${process.pid}-${++dbCounter}`): Promise<string> {
  const tab = makeClient({ dbName, fetch: offline });
  for (const [station, n] of Object.entries(counts)) for (let i = 0; i < n; i++) await tab.station(station).enqueue({ i });
  await tab.close();
  return dbName;
}

function configure(scope: FakeScope, dbName: string, auth: Record<string, string> = { token: TOKEN }) {
  return scope.post({ type: "waystation:configure", outbox: { url: BASE_URL, dbName, ...auth } });
}

/** A sync event with the SDK's tag: its waitUntil promise. */
function syncEvent(scope: FakeScope): Promise<unknown> {
  const [done] = scope.dispatch("sync", { tag: SYNC_TAG });
  return done!;
}

function pending(dbName: string): Promise<number> {
  return countOutbox({ url: BASE_URL, dbName, token: TOKEN });
}

async function deadLetters(dbName: string): Promise<number> {
  const tab = makeClient({ dbName, fetch: offline });
  clients.push(tab);
  return (await tab.deadLetters()).length;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.delayMs = 0;
  server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
  // Each test starts with a service worker that knows no outbox.
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(REGISTRY_DB);
    req.onsuccess = req.onerror = req.onblocked = resolve;
  });
});
afterAll(() => server.close());

describe("sync service worker", () => {
  it("drains every stream of the outbox from a Background Sync event, each action once, and nothing more on the next", async () => {
    const dbName = await enqueueOfflineAndClose({ "sw-a": 25, "sw-b": 10 });
    const scope = worker();
    const configured = await configure(scope, dbName);
    expect(configured.reply).toEqual({ ok: true });
    await configured.done;
    server.requests.length = 0; // the message itself synced; the sync event must find nothing left
    const db2 = await enqueueOfflineAndClose({ "sw-a": 5 }, dbName);
    await syncEvent(scope);
    expect(server.station("sw-a").log.map((m) => (m.body as { i: number }).i)).toEqual([...Array(25).keys(), ...Array(5).keys()]);
    expect(server.station("sw-b").log.map((m) => (m.body as { i: number }).i)).toEqual([...Array(10).keys()]);
    expect(new Set(server.station("sw-a").log.map((m) => `${m.producer}:${m.seq}`)).size).toBe(30);
    expect(await pending(db2)).toBe(0);
    const sent = server.requests.length;
    await syncEvent(scope);
    expect(server.requests.length).toBe(sent);
    const runs = await lastRuns();
    expect(runs.at(-1)).toMatchObject({ dbName, trigger: "sync", acked: 5, pending: 0, locked: true });
  });

  it("resends after lost answers and the station rules each seq once", async () => {
    const dbName = await enqueueOfflineAndClose({ "sw-lost": 12 });
    const scope = worker();
    server.faults.push({ kind: "lose-response" }, { kind: "network" }, { kind: "lose-response" });
    await (await configure(scope, dbName)).done;
    await waitFor(async () => (await pending(dbName)) === 0, "the outbox to drain");
    const log = server.station("sw-lost").log;
    expect(log.map((m) => (m.body as { i: number }).i)).toEqual([...Array(12).keys()]);
    expect(server.requests.length).toBeGreaterThan(1); // resent, answered as duplicates
  });

  it("syncs every registered outbox (several databases, one worker)", async () => {
    const one = await enqueueOfflineAndClose({ "sw-multi-1": 3 });
    const two = await enqueueOfflineAndClose({ "sw-multi-2": 4 });
    const scope = worker();
    server.state.accepts = () => false; // hold both until both are registered
    await configure(scope, one);
    await configure(scope, two);
    server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
    await syncEvent(scope);
    expect(server.station("sw-multi-1").log).toHaveLength(3);
    expect(server.station("sw-multi-2").log).toHaveLength(4);
  });

  it("waits for the lock a tab holds, and syncs once that tab is closed", async () => {
    const locks = asLockManager(new FakeLockManager());
    const dbName = `sw-${process.pid}-${++dbCounter}`;
    const tab = makeClient({ dbName, locks, fetch: offline });
    await waitFor(() => tab.status.leader, "the tab to lead");
    for (let i = 0; i < 5; i++) await tab.station("sw-lock").enqueue({ i });
    const scope = worker({ locks });
    await configure(scope, dbName);
    const done = syncEvent(scope);
    let settled = false;
    void done.finally(() => (settled = true)).catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests).toHaveLength(0); // the tab holds the lock: the worker does not sync beside it
    expect(settled).toBe(false);
    await tab.close();
    await done;
    expect(server.station("sw-lock").log.map((m) => (m.body as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
    expect(await pending(dbName)).toBe(0);
  });

  it("holds the lock while it syncs: a tab opened meanwhile waits, then leads", async () => {
    const locks = asLockManager(new FakeLockManager());
    const dbName = await enqueueOfflineAndClose({ "sw-hold": 40 });
    const scope = worker({ locks });
    server.state.delayMs = 100;
    const { done } = await configure(scope, dbName);
    await waitFor(() => server.requests.length > 0, "the worker's first batch");
    const tab = makeClient({ dbName, locks, fetch: offline, maxBatchMessages: 10 });
    clients.push(tab);
    await new Promise((r) => setTimeout(r, 30));
    expect(tab.status.leader).toBe(false);
    await done;
    await waitFor(() => tab.status.leader, "the tab to lead once the worker let go");
    expect(server.station("sw-hold").log).toHaveLength(40);
  });

  it("leaves actions pending on answers that are not rulings (401, a proxy's 502, 503), fails the sync event, and delivers once later", async () => {
    const dbName = await enqueueOfflineAndClose({ "sw-refused": 6 });
    const scope = worker({ eventBudgetMs: 300 });
    server.state.accepts = () => false;
    await (await configure(scope, dbName)).done;
    await expect(syncEvent(scope)).rejects.toMatchObject({ code: "unavailable" });
    expect((await lastRuns()).at(-1)).toMatchObject({ dbName, pending: 6, error: { code: "unauthorized" } });
    server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
    for (let i = 0; i < 50; i++) server.faults.push({ kind: "foreign", status: 502 }, { kind: "status", status: 503 });
    await expect(syncEvent(scope)).rejects.toMatchObject({ code: "unavailable" });
    expect(await pending(dbName)).toBe(6);
    expect(await deadLetters(dbName)).toBe(0);
    expect(server.station("sw-refused").log).toHaveLength(0);
    server.faults.length = 0;
    await syncEvent(scope);
    expect(server.station("sw-refused").log.map((m) => (m.body as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await pending(dbName)).toBe(0);
  });

  it("gets its token from the app's token endpoint, and asks again on a 401", async () => {
    const dbName = await enqueueOfflineAndClose({ "sw-token": 2 });
    const issued = ["expired-token", TOKEN];
    let asked = 0;
    server.server.use(http.get(`${BASE_URL}/auth/waystation-token`, () => HttpResponse.json({ token: issued[Math.min(asked++, 1)] })));
    const scope = worker();
    await (await configure(scope, dbName, { tokenUrl: "/auth/waystation-token" })).done;
    expect(asked).toBe(2);
    expect(server.station("sw-token").log).toHaveLength(2);
    expect(server.requests.map((r) => r.token)).toContain(`Bearer ${TOKEN}`);
  });

  it("forgets an outbox on a page's word (logout) and syncs it no more", async () => {
    const dbName = await enqueueOfflineAndClose({ "sw-forget": 2 });
    const scope = worker();
    server.state.accepts = () => false;
    const configured = await configure(scope, dbName);
    expect((await scope.post({ type: "waystation:forget", url: BASE_URL, dbName })).reply).toEqual({ ok: true });
    // The loop the configure started ends once it sees the outbox forgotten (a pass in flight finishes first).
    await configured.done;
    server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
    server.requests.length = 0;
    await syncEvent(scope);
    expect(server.requests).toHaveLength(0);
    expect(await pending(dbName)).toBe(2);
  });

  it("answers a bad registration with a coded error and ignores messages that are not its own", async () => {
    const scope = worker();
    expect((await scope.post({ type: "waystation:configure", outbox: { url: BASE_URL, dbName: "x" } })).reply).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    expect((await scope.post({ type: "waystation:configure", outbox: { dbName: "x", token: "t" } })).reply).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    expect((await scope.post({ type: "waystation:nope" })).reply).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    let reply: unknown;
    const waits = scope.dispatch("message", { data: { type: "app-message" }, ports: [{ postMessage: (r: unknown) => (reply = r) }] });
    await Promise.all(waits);
    expect(reply).toBeUndefined();
  });
});
