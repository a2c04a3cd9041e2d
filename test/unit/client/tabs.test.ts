// Several tabs of one origin, in one process: a lock manager stand-in for Web Locks and Node's
// BroadcastChannel. One tab syncs; the others enqueue, hear events and status, and take over.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AckedEvent, Client } from "../../../client/index";
import { asLockManager, FakeLockManager, makeClient, startStationServer, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];

function tab(dbName: string, locks: LockManager): Client {
  const c = makeClient({ dbName, locks });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.delayMs = 0;
});
afterAll(() => server.close());

describe("tabs", () => {
  it("lets one tab sync what every tab enqueues, and tells the others", async () => {
    const locks = asLockManager(new FakeLockManager());
    const a = tab("tabs-one", locks);
    const b = tab("tabs-one", locks);
    const heardByB: AckedEvent[] = [];
    b.on("acked", (e) => heardByB.push(e));
    await waitFor(() => a.status.leader, "the first tab to lead");
    expect(b.status.leader).toBe(false);
    const { seq } = await b.station("multi").enqueue("from b");
    await a.station("multi").enqueue("from a");
    await waitFor(() => server.station("multi").log.length === 2, "both actions delivered");
    expect(server.station("multi").log.map((m) => m.body)).toEqual(["from b", "from a"]);
    await waitFor(() => heardByB.length === 2, "the acks to reach the other tab");
    expect(heardByB.map((e) => e.seq)).toEqual([seq, seq + 1]);
    await waitFor(() => b.status.state === "idle" && b.status.pending === 0, "the other tab to see idle");
  });

  it("hands syncing to a waiting tab when the syncing tab closes mid-batch, losing and doubling nothing", async () => {
    const locks = asLockManager(new FakeLockManager());
    const a = tab("tabs-takeover", locks);
    await waitFor(() => a.status.leader, "the first tab to lead");
    const b = tab("tabs-takeover", locks);
    server.state.delayMs = 50;
    for (let i = 0; i < 30; i++) await b.station("takeover").enqueue(i);
    await waitFor(() => server.requests.length > 0, "a batch in flight");
    await a.close(); // mid-batch: its answer is never applied
    await waitFor(() => b.status.leader, "the waiting tab to take over");
    await waitFor(async () => (await b.pending()).length === 0, "the outbox to drain", 10_000);
    const log = server.station("takeover").log;
    expect(log.map((m) => m.body)).toEqual([...Array(30).keys()]);
    expect(new Set(log.map((m) => m.seq)).size).toBe(30);
  });

  it("answers flush() from a tab that does not sync, once the syncing tab tried", async () => {
    const locks = asLockManager(new FakeLockManager());
    const a = tab("tabs-flush", locks);
    await waitFor(() => a.status.leader, "the first tab to lead");
    const b = tab("tabs-flush", locks);
    await b.station("flushing").enqueue("x");
    const status = await b.flush();
    expect(status.leader).toBe(false);
    expect(server.station("flushing").log).toHaveLength(1);
  });

  it("answers flush() called before the tab got the lock, once it syncs", async () => {
    const locks = asLockManager(new FakeLockManager());
    const c = tab("tabs-early-flush", locks);
    const flushed = c.flush(); // the lock is granted only after this call
    await c.station("early").enqueue("x");
    const status = await flushed;
    expect(status.leader).toBe(true);
    await waitFor(() => server.station("early").log.length === 1, "the action delivered");
  });
});
