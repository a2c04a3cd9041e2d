// The outbox on fake-indexeddb: commit before resolve, gapless seqs across tabs, typed errors
// with nothing half-written, a connection closed by the browser, a store wiped by the browser.
import FDBObjectStore from "fake-indexeddb/lib/FDBObjectStore";
import forceCloseDatabase from "fake-indexeddb/lib/forceCloseDatabase";
import { openDB } from "idb";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Client, WaystationError } from "../../../client/index";
import { asLockManager, FakeLockManager, makeClient, startStationServer, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];

function client(options: Parameters<typeof makeClient>[0] = {}): Client {
  const c = makeClient(options);
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
});
afterAll(() => server.close());

describe("outbox", () => {
  it("has the action committed, readable by another connection, once enqueue resolves", async () => {
    server.faults.push({ kind: "network" }, { kind: "network" }, { kind: "network" });
    const c = client({ dbName: "commit-check", backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    const { seq } = await c.station("commit").enqueue({ todo: "milk" }, { key: "k", headers: { a: "b" }, id: "i-1" });
    const other = await openDB("commit-check");
    const entries = await other.getAll("outbox");
    other.close();
    expect(entries.map((e) => [e.seq, JSON.parse(e.body), e.key, e.headers, e.id])).toEqual([[seq, { todo: "milk" }, "k", { a: "b" }, "i-1"]]);
  });

  it("gives tabs enqueueing at once one gapless order per station", async () => {
    const locks = asLockManager(new FakeLockManager());
    server.faults.push(...Array(50).fill({ kind: "network" }));
    const a = client({ dbName: "gapless", locks, backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    const b = client({ dbName: "gapless", locks, backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    const results = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => a.station("shared").enqueue({ tab: "a", i })),
      ...Array.from({ length: 40 }, (_, i) => b.station("shared").enqueue({ tab: "b", i })),
    ]);
    expect(results.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    const pending = await a.station("shared").pending();
    expect(pending.map((p) => p.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });

  it("commits concurrent enqueues of a tab in shared transactions, each seq in call order", async () => {
    server.faults.push(...Array(10).fill({ kind: "network" }));
    const c = client({ dbName: "group-commit", backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    const st = c.station("grouped");
    await st.enqueue("warm-up"); // the database is open
    const FDBDatabase = (await import("fake-indexeddb/lib/FDBDatabase")).default;
    const transaction = FDBDatabase.prototype.transaction;
    let writes = 0;
    FDBDatabase.prototype.transaction = function (this: any, stores: any, mode?: any, ...rest: any[]) {
      if (mode === "readwrite" && [].concat(stores).includes("outbox" as never)) writes++;
      return transaction.call(this, stores, mode, ...rest);
    } as any;
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => st.enqueue({ i })));
      expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
      expect(writes).toBeLessThan(10);
    } finally {
      FDBDatabase.prototype.transaction = transaction;
    }
    const pending = await st.pending();
    expect(pending.slice(1).map((p) => [p.seq, (p.body as { i: number }).i])).toEqual(Array.from({ length: 100 }, (_, i) => [i + 2, i]));
  });

  it("rejects invalid actions with invalid_request and writes nothing", async () => {
    const c = client();
    const st = c.station("invalid");
    await expect(st.enqueue(undefined)).rejects.toMatchObject({ code: "invalid_request" });
    await expect(st.enqueue(() => 1)).rejects.toMatchObject({ code: "invalid_request" });
    await expect(st.enqueue({ ok: 1 }, { headers: { "bad header": "x" } })).rejects.toMatchObject({ code: "invalid_request" });
    await expect(st.enqueue(1n)).rejects.toBeInstanceOf(WaystationError);
    expect(await st.pending()).toEqual([]);
    expect(() => c.station("Not A Name")).toThrow(WaystationError);
    expect((await st.enqueue({ ok: 1 })).seq).toBe(1);
  });

  it("rejects with quota_exceeded when storage is full, leaving neither the entry nor a used seq", async () => {
    server.faults.push(...Array(10).fill({ kind: "network" }));
    const c = client({ backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    const st = c.station("quota");
    await st.enqueue("first");
    const original = FDBObjectStore.prototype.add;
    FDBObjectStore.prototype.add = function (this: any, ...args: any[]) {
      const raw = this._rawObjectStore;
      const store = raw.storeRecord;
      raw.storeRecord = () => {
        raw.storeRecord = store;
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      };
      return original.apply(this, args as any);
    } as any;
    try {
      const failure = await st.enqueue("too much").catch((e) => e);
      expect(failure).toBeInstanceOf(WaystationError);
      expect(failure.code).toBe("quota_exceeded");
    } finally {
      FDBObjectStore.prototype.add = original;
    }
    expect((await st.pending()).map((p) => [p.seq, p.body])).toEqual([[1, "first"]]);
    expect((await st.enqueue("next")).seq).toBe(2);
  });

  it("reopens the database when the browser closes the connection", async () => {
    const opened: IDBDatabase[] = [];
    const factory = indexedDB as IDBFactory;
    const open = factory.open.bind(factory);
    factory.open = ((...args: Parameters<IDBFactory["open"]>) => {
      const request = open(...args);
      request.addEventListener("success", () => opened.push(request.result));
      return request;
    }) as IDBFactory["open"];
    try {
      const c = client({ dbName: "reopen" });
      const st = c.station("reopen");
      await st.enqueue("before");
      await waitFor(() => server.station("reopen").log.length === 1, "the first delivery");
      for (const db of opened) forceCloseDatabase(db as any);
      const { seq } = await st.enqueue("after");
      expect(seq).toBe(2);
      await waitFor(() => server.station("reopen").log.length === 2, "the second delivery");
      expect(opened.length).toBeGreaterThanOrEqual(2);
    } finally {
      factory.open = open;
    }
  });

  it("starts a new producer when the store was wiped, so seqs never collide", async () => {
    const first = client({ dbName: "wiped" });
    const producer1 = await first.producerId("wipe");
    await first.station("wipe").enqueue("old-1");
    await first.station("wipe").enqueue("old-2");
    await waitFor(() => server.station("wipe").log.length === 2, "the first producer's delivery");
    await first.close();
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase("wiped");
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
    const second = client({ dbName: "wiped" });
    const producer2 = await second.producerId("wipe");
    expect(producer2).not.toBe(producer1);
    expect((await second.station("wipe").enqueue("new-1")).seq).toBe(1);
    await waitFor(() => server.station("wipe").log.length === 3, "the new producer's delivery");
    expect(server.station("wipe").log.map((m) => [m.producer, m.seq, m.body])).toEqual([
      [producer1, 1, "old-1"],
      [producer1, 2, "old-2"],
      [producer2, 1, "new-1"],
    ]);
  });

  it("asks for persistent storage only where the browser offers it", async () => {
    const c = client();
    expect(await c.persist()).toBe(false);
  });
});
