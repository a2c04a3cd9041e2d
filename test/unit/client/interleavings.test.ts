// The interleavings exactly-once must survive, each injected: a tab that dies between any two of
// its IndexedDB transactions (after reading a batch, after sending it, after settling part of it,
// after moving producer), with answers lost and a refusal in the batch; and a store wiped while
// a batch is in flight. (Answers lost then resent after the config changed, two tabs with and
// without Web Locks, and two URLs are in exactly-once.test.ts; clocks and stalls in stalls.test.ts.)
import FDBDatabase from "fake-indexeddb/lib/FDBDatabase";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Client } from "../../../client/index";
import { makeClient, startStationServer, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];
const restores: (() => void)[] = [];

afterEach(async () => {
  while (restores.length > 0) restores.pop()!();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
});
afterAll(() => server.close());

/** Calls `crash` when the `k`-th IndexedDB transaction from now is opened (by any connection). */
function crashAtTransaction(k: number, crash: () => void): void {
  const transaction = FDBDatabase.prototype.transaction;
  let count = 0;
  FDBDatabase.prototype.transaction = function (this: FDBDatabase, ...args: unknown[]) {
    const tx = (transaction as (...a: unknown[]) => unknown).apply(this, args);
    if (++count === k) crash();
    return tx;
  } as typeof transaction;
  restores.push(() => (FDBDatabase.prototype.transaction = transaction));
}

describe("a tab that dies between two of its IndexedDB transactions", () => {
  for (let k = 1; k <= 22; k++) {
    it(`loses, doubles and reorders nothing when it dies at transaction ${k} of a sync with a seq_conflict, a lost answer and a refusal`, async () => {
      const name = `crash-${k}`;
      server.station(name).config.schema = (body) => (body === "bad" ? "bad" : null);
      const first = makeClient({ dbName: name });
      clients.push(first);
      // Another writer already used our producer's seq 1: our first send meets seq_conflict and
      // moves producer; the next answer is lost after the commit; "bad" is refused.
      const producer = await first.producerId(name);
      server.station(name).produce({ producer, messages: [{ seq: 1, body: "theirs", id: "theirs" }] });
      server.faults.push({ kind: "lose-response" });
      let crashed = false;
      crashAtTransaction(k, () => {
        crashed = true;
        void first.close();
      });
      const st = first.station(name);
      const acknowledged: string[] = [];
      await Promise.all(["a", "bad", "c", "d"].map((body) => st.enqueue(body).then(() => acknowledged.push(body), () => undefined)));
      await waitFor(async () => crashed || (await first.pending()).length === 0, "the crash or the end of the sync");
      restores.pop()!();
      await first.close();

      const second = makeClient({ dbName: name });
      clients.push(second);
      await waitFor(async () => (await second.pending()).length === 0, "the outbox to drain after the restart");
      const log = server.station(name).log.map((m) => m.body);
      expect(log).toEqual(["theirs", ...acknowledged.filter((b) => b !== "bad")]);
      expect((await second.deadLetters()).map((d) => d.body)).toEqual(acknowledged.filter((b) => b === "bad"));
    });
  }
});

describe("a store wiped while a batch is in flight", () => {
  it("never writes the old batch's answer into the new store", async () => {
    server.state.delayMs = 60;
    const c = makeClient({ dbName: "wiped-in-flight" });
    clients.push(c);
    await c.station("wiped-in-flight").enqueue("old");
    await waitFor(() => server.requests.length > 0, "the batch in flight");
    // "Clear site data" while the request is out: the store is gone, a new one starts.
    const db = await (await import("idb")).openDB("wiped-in-flight");
    const tx = db.transaction(["streams", "outbox"], "readwrite");
    await Promise.all([tx.objectStore("streams").clear(), tx.objectStore("outbox").clear(), tx.done]);
    db.close();
    const { seq } = await c.station("wiped-in-flight").enqueue("new");
    expect(seq).toBe(1);
    server.state.delayMs = 0;
    await waitFor(() => server.station("wiped-in-flight").log.length === 2, "both delivered");
    await waitFor(async () => (await c.pending()).length === 0, "the new store to drain");
    const log = server.station("wiped-in-flight").log;
    expect(log.map((m) => m.body)).toEqual(["old", "new"]);
    expect(log[0]!.producer).not.toBe(log[1]!.producer);
  });
});
