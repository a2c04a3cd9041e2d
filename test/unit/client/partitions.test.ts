// The SDK on partitioned stations: each action gets its partition at enqueue (by key, else the
// client's own origin id, over the count the outbox knows), each partition has its own stream —
// its own producer, seqs 1, 2, 3… — and every batch names its partition. A count the station
// answers with is adopted only once the station has no pending action; queued actions keep their
// partition whatever happens to the count. `unruled` results stay pending and go again with their
// seqs; `partition_out_of_range` blocks the stream until the app discards it.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AckedEvent, Client } from "../../../client/index";
import { partitionFor } from "../../../shared/partitions";
import { json } from "./fake-station";
import { makeClient, startStationServer, TOKEN, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];

/** A client whose network can be cut: offline, every request fails as a cut network does. */
function client() {
  const net = { offline: false };
  const c = makeClient({
    fetch: (input, init) => (net.offline ? Promise.reject(new TypeError("Failed to fetch")) : fetch(input, init)),
  });
  clients.push(c);
  const acked: AckedEvent[] = [];
  c.on("acked", (e) => acked.push(e));
  return { c, net, acked };
}

async function drained(c: Client, timeoutMs = 5000) {
  await c.flush();
  await waitFor(async () => (await c.pending()).length === 0, "the outbox to drain", timeoutMs);
}

/** Enqueues one action online and drains, so the client hears the station's partition count. */
async function learnCount(c: Client, station: string) {
  await c.station(station).enqueue({ learn: true });
  await drained(c);
}

/** Keys that fall in every partition of `count` (by the shared hash), `perPartition` each. */
function keysOver(count: number, perPartition: number): string[] {
  const keys: string[] = [];
  const taken = new Array<number>(count).fill(0);
  for (let i = 0; keys.length < count * perPartition; i++) {
    const key = `user-${i}`;
    const p = partitionFor(key, null, count)!;
    if (taken[p]! < perPartition) {
      taken[p]!++;
      keys.push(key);
    }
  }
  return keys;
}

/** Every partition's log: per producer its seqs 1, 2, 3… once each, and each message where its key routes. */
function expectDenseStreams(station: string, count: number) {
  const fake = server.station(station);
  for (let p = 0; p < count; p++) {
    const byProducer = new Map<string, number[]>();
    for (const m of fake.logOf(p)) byProducer.set(m.producer!, [...(byProducer.get(m.producer!) ?? []), m.seq!]);
    for (const seqs of byProducer.values()) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
  server.state.refuse = () => undefined;
});
afterAll(() => server.close());

describe("partition streams", () => {
  it("routes keyed actions over 4 partitions, each partition's stream numbered 1, 2, 3…, each key in order in one partition", async () => {
    const { c } = client();
    server.station("p-route").partitions = 4;
    // Never answered yet: the count is 1, so the first action goes to partition 0.
    expect(await c.station("p-route").enqueue({ learn: true }, { key: "first" })).toEqual({ seq: 1, partition: 0 });
    await drained(c);

    const keys = keysOver(4, 2);
    const enqueued: { key: string; n: number; partition: number; seq: number }[] = [];
    for (let n = 0; n < 3; n++) {
      for (const key of keys) enqueued.push({ key, n, ...(await c.station("p-route").enqueue({ key, n }, { key })) });
    }
    await drained(c);

    for (const e of enqueued) expect(e.partition).toBe(partitionFor(e.key, null, 4));
    // Each partition's stream numbers its own actions 1, 2, 3… (partition 0's went on after the first action).
    for (let p = 1; p < 4; p++) expect(enqueued.filter((e) => e.partition === p).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(enqueued.filter((e) => e.partition === 0).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    const fake = server.station("p-route");
    for (const key of keys) {
      const stored = fake.log.filter((m) => m.key === key);
      expect(stored.map((m) => (m.body as { n: number }).n)).toEqual([0, 1, 2]);
      expect(new Set(stored.map((m) => m.partition))).toEqual(new Set([partitionFor(key, null, 4)]));
    }
    expect(fake.log).toHaveLength(1 + keys.length * 3);
    expectDenseStreams("p-route", 4);
    // Every batch named its partition, and only the partition its actions were numbered for.
    for (const r of server.requests) expect(r.partition).toBeTypeOf("number");
    // Four streams, four producers.
    expect(new Set(fake.log.map((m) => m.producer)).size).toBe(4);
  });

  it("keeps a client's keyless actions in one partition, in order", async () => {
    const { c } = client();
    server.station("p-keyless").partitions = 8;
    await learnCount(c, "p-keyless");
    const placed = [];
    for (let n = 0; n < 10; n++) placed.push(await c.station("p-keyless").enqueue({ n }));
    await drained(c);
    expect(new Set(placed.map((p) => p.partition)).size).toBe(1);
    const partition = placed[0]!.partition;
    expect(server.station("p-keyless").logOf(partition).filter((m) => (m.body as { n?: number }).n !== undefined).map((m) => (m.body as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("adopts a count the station answered only once the station has no pending action", async () => {
    const { c, net } = client();
    const fake = server.station("p-adopt");
    fake.partitions = 4;
    const keys = keysOver(4, 1).filter((k) => partitionFor(k, null, 4) !== 0);
    // Partition 0's stream answers; every other stays unanswered (a 503 that is no ruling).
    let holdOthers = true;
    server.state.refuse = (_station, body) => (holdOthers && (body as { partition?: number }).partition !== 0 ? json(503, { error: { code: "unavailable", message: "held" } }) : undefined);

    net.offline = true;
    expect(await c.station("p-adopt").enqueue({ before: 1 }, { key: keys[0] })).toMatchObject({ partition: 0 });
    net.offline = false;
    await c.flush(); // the answer says 4 partitions; nothing else waits: adopted by the next enqueue
    await waitFor(async () => (await c.pending()).length === 0, "the first action");
    const second = await c.station("p-adopt").enqueue({ before: 2 }, { key: keys[0] });
    expect(second.partition).toBe(partitionFor(keys[0]!, null, 4));
    // That stream is held: an action of it waits. The count stays what it is while anything waits…
    fake.partitions = 8;
    const zero = keysOver(4, 1).find((k) => partitionFor(k, null, 4) === 0)!;
    expect((await c.station("p-adopt").enqueue({ zero: 1 }, { key: zero })).partition).toBe(0); // answered with 8
    await c.flush();
    const waiting = await c.station("p-adopt").enqueue({ before: 3 }, { key: keys[0] });
    expect(waiting.partition).toBe(second.partition);
    // …and once the station has no pending action, the next enqueue routes by 8.
    holdOthers = false;
    await drained(c);
    const after = await c.station("p-adopt").enqueue({ after: 1 }, { key: keys[0] });
    expect(after.partition).toBe(partitionFor(keys[0]!, null, 8));
    await drained(c);
    expect(fake.log.filter((m) => m.key === keys[0]).map((m) => m.body)).toEqual([{ before: 1 }, { before: 2 }, { before: 3 }, { after: 1 }]);
    expectDenseStreams("p-adopt", 8);
  });

  it("loses and doubles nothing when the count grows while actions are queued offline: each goes to the partition it was numbered for", async () => {
    const { c, net, acked } = client();
    const fake = server.station("p-grow");
    fake.partitions = 2;
    await learnCount(c, "p-grow");
    net.offline = true;
    const keys = keysOver(8, 2);
    const enqueued: { key: string; n: number; partition: number; seq: number }[] = [];
    for (let n = 0; n < 3; n++) for (const key of keys) enqueued.push({ key, n, ...(await c.station("p-grow").enqueue({ key, n }, { key })) });
    for (const e of enqueued) expect(e.partition).toBe(partitionFor(e.key, null, 2));
    fake.partitions = 8; // grown while the page was offline
    net.offline = false;
    await drained(c);

    for (const e of enqueued) {
      const stored = fake.log.filter((m) => (m.body as { key?: string }).key === e.key && (m.body as { n: number }).n === e.n);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.partition).toBe(e.partition);
    }
    for (const key of keys) expect(fake.log.filter((m) => m.key === key).map((m) => (m.body as { n: number }).n)).toEqual([0, 1, 2]);
    expect(acked.filter((a) => !a.duplicate)).toHaveLength(enqueued.length + 1);
    expectDenseStreams("p-grow", 8);
    // Drained: new actions route by 8.
    for (const key of keys) expect((await c.station("p-grow").enqueue({ key, n: 3 }, { key })).partition).toBe(partitionFor(key, null, 8));
    await drained(c);
    expectDenseStreams("p-grow", 8);
  });

  it("resends a partition stream's batch whose answer was lost with the same producer, seqs and partition: stored once", async () => {
    const { c, acked } = client();
    const fake = server.station("p-lost");
    fake.partitions = 4;
    await learnCount(c, "p-lost");
    server.requests.length = 0;
    server.faults.push({ kind: "lose-response" }, { kind: "lose-response" }, { kind: "lose-response" });
    const keys = keysOver(4, 1);
    for (let n = 0; n < 2; n++) for (const key of keys) await c.station("p-lost").enqueue({ key, n }, { key });
    await drained(c);
    expect(fake.log).toHaveLength(1 + keys.length * 2);
    expectDenseStreams("p-lost", 4);
    // Each action sent again went to the same partition under the same producer and seq. A resent
    // batch may carry more actions than the lost one (those queued meanwhile), so count per action.
    const sent = new Map<string, number>();
    for (const r of server.requests) {
      r.seqs.forEach((seq, i) => {
        const id = `${r.partition} ${r.producer} ${seq} ${JSON.stringify(r.bodies[i])}`;
        sent.set(id, (sent.get(id) ?? 0) + 1);
      });
      for (const body of r.bodies) expect(partitionFor((body as { key: string }).key, null, 4)).toBe(r.partition);
    }
    expect([...sent.values()].some((n) => n > 1)).toBe(true);
    const settled = new Set(acked.map((a) => `${a.partition}:${a.seq}`));
    expect(settled.size).toBe(acked.length); // each action acknowledged once
    expect(acked.some((a) => a.duplicate)).toBe(true);
  });

  it("keeps unruled actions pending and resends them with their seqs, while the ruled part settles", async () => {
    const { c, acked } = client();
    const st = c.station("p-unruled");
    server.faults.push({ kind: "unruled", from: 2 });
    await Promise.all([0, 1, 2, 3, 4].map((n) => st.enqueue({ n })));
    await drained(c);
    const seen = server.requests.filter((r) => r.station === "p-unruled");
    expect(seen.map((r) => [r.partition, r.seqs])).toEqual([
      [0, [1, 2, 3, 4, 5]],
      [0, [3, 4, 5]],
    ]);
    expect(seen[1]!.producer).toBe(seen[0]!.producer);
    expect(seen[1]!.ids).toEqual(seen[0]!.ids.slice(2));
    expect(server.station("p-unruled").log.map((m) => [m.seq, m.body])).toEqual([0, 1, 2, 3, 4].map((n) => [n + 1, { n }]));
    expect(acked.map((a) => [a.seq, a.duplicate])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
    ]);
  });

  it("blocks a stream whose partition the station no longer has (made again smaller), visibly, until the app discards it", async () => {
    const { c, net } = client();
    const fake = server.station("p-shrunk");
    fake.partitions = 4;
    await learnCount(c, "p-shrunk");
    const key = keysOver(4, 1).find((k) => partitionFor(k, null, 4) === 3)!;
    net.offline = true;
    await c.station("p-shrunk").enqueue({ lost: 1 }, { key });
    await c.station("p-shrunk").enqueue({ lost: 2 }, { key });
    fake.reset();
    fake.partitions = 2;
    net.offline = false;
    await c.flush();
    await waitFor(async () => (await c.blockedStreams()).length > 0, "the stream to be blocked");
    expect(await c.blockedStreams()).toMatchObject([{ station: "p-shrunk", partition: 3, pending: 2, error: { code: "partition_out_of_range" } }]);
    expect((await c.station("p-shrunk").pending()).map((a) => [a.partition, a.body])).toEqual([
      [3, { lost: 1 }],
      [3, { lost: 2 }],
    ]);
    expect(await c.deadLetters()).toEqual([]);
    const dropped = await c.discardStream("p-shrunk", { partition: 3 });
    expect(dropped.map((a) => [a.partition, a.seq, a.body])).toEqual([
      [3, 1, { lost: 1 }],
      [3, 2, { lost: 2 }],
    ]);
    await waitFor(async () => (await c.blockedStreams()).length === 0, "the block to clear");
    // Nothing waits now: the count the station answered (2) routes the next action.
    expect((await c.station("p-shrunk").enqueue({ again: 1 }, { key })).partition).toBe(partitionFor(key, null, 2));
    await drained(c);
    expect(fake.log.map((m) => m.body)).toEqual([{ again: 1 }]);
  });
});
