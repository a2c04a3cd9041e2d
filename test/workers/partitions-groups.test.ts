// Consumer groups on a partitioned station (docs/consumer-groups.md, "Partitions"): a group
// covers every partition; a fetch leases from all of them fairly and its long-poll wakes on any
// of them without leaving a lease behind; acks, nacks, extends and dead-letters name
// `{partition, offset}` (the `offsets` form is partition 0); a group's stats are summed with each
// partition listed; seeks move every partition (or the one named); DLS, redelivery and epochs
// work per partition.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { StationConfigSchema } from "../../shared/config";
import { COUNT_TTL_MS, partitionStub } from "../../worker/partitions/objects";
import { api, uniqueStation } from "./helpers";
import { pass, seededRandom } from "./groups-helpers";
import {
  byPartition,
  fetchMessages,
  fillEveryPartition,
  groupPath,
  growStation,
  keyFor,
  partitionedStation,
  produceKeyed,
  putGroup,
  readGroup,
  refsOf,
  settle,
} from "./partitions-groups-helpers";

const inObject = runInDurableObject as unknown as <T>(stub: unknown, fn: (instance: any) => T) => Promise<T>;

/** Waits (up to 5 s) until the station's partitions hold `count` no-lease waits in all. */
async function untilWatching(station: string, partitions: number, count: number): Promise<void> {
  let total = -1;
  for (let tries = 0; tries < 100; tries++) {
    total = 0;
    for (let p = 0; p < partitions; p++) total += await inObject(partitionStub(env, station, p), (instance) => instance.groups.watchers.size as number);
    if (total === count) return;
    await pass(50);
  }
  expect(total).toBe(count);
}

describe("a group over every partition", () => {
  it("drains keyed messages of 8 partitions: each acked exactly once, first hand-outs of a partition in offset order", async () => {
    const seed = 20261202;
    const random = seededRandom(seed);
    const partitions = 8;
    const station = await partitionedStation(partitions, { ackTimeoutMs: 200 });
    expect((await putGroup(station, "g")).status).toBe(201);
    const messages = [];
    for (let n = 1; n <= 240; n++) messages.push({ key: `user-${Math.floor(random() * 30)}`, body: { n } });
    const produced = await produceKeyed(station, partitions, messages);
    const ackedRefs = new Set<string>();
    let ackedCount = 0;
    const firstHandOuts = new Map<number, number[]>();
    const lastBodyOfKey = new Map<string, number>();
    // Three consumers take turns; one of them drops a batch unacked now and then (it crashed):
    // those messages come back after the ack timeout.
    const consumers = ["c1", "c2", "c3"];
    let pendingAck = new Map<string, any[]>();
    for (let turn = 0; turn < 400 && ackedRefs.size < produced.length; turn++) {
      const consumer = consumers[turn % consumers.length]!;
      const ack = pendingAck.get(consumer) ?? [];
      const res = await api("POST", `${groupPath(station, "g")}/fetch`, { consumer, max: 1 + Math.floor(random() * 20), ack: refsOf(ack) });
      expect(res.status, `seed ${seed}: ${JSON.stringify(res.body)}`).toBe(200);
      if (ack.length > 0) {
        ackedCount += res.body.acked;
        for (const m of ack) ackedRefs.add(`${m.partition}:${m.offset}`);
      }
      const got: any[] = res.body.messages;
      for (const m of got) {
        if (m.deliveries !== 1) continue;
        firstHandOuts.set(m.partition, [...(firstHandOuts.get(m.partition) ?? []), m.offset]);
        // Per key, first hand-outs follow production order (one key, one partition).
        expect(m.body.n, `seed ${seed}: key ${m.key}`).toBeGreaterThan(lastBodyOfKey.get(m.key) ?? 0);
        lastBodyOfKey.set(m.key, m.body.n);
      }
      const crashes = consumer === "c3" && random() < 0.2;
      pendingAck.set(consumer, crashes ? [] : got);
      if (got.length === 0 && ackedRefs.size < produced.length) await pass(50);
    }
    pendingAck = new Map();
    expect(ackedRefs.size, `seed ${seed}`).toBe(produced.length);
    for (const m of produced) expect(ackedRefs.has(`${m.partition}:${m.offset}`)).toBe(true);
    // Exactly once: the acks that counted add up to the messages, no more.
    expect(ackedCount, `seed ${seed}`).toBe(produced.length);
    for (const [partition, offsets] of firstHandOuts) {
      expect(offsets, `seed ${seed}: partition ${partition}`).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(offsets).size).toBe(offsets.length);
    }
    expect(firstHandOuts.size).toBe(new Set(produced.map((m) => m.partition)).size);
    const info = await readGroup(station, "g");
    expect(info).toMatchObject({ acked: produced.length, pending: 0, lag: 0, redeliveries: 0 });
    expect(info.partitions).toHaveLength(partitions);
  });

  it("takes from every partition in one fetch when each has a backlog", async () => {
    const station = await partitionedStation(8);
    await fillEveryPartition(station, 8, 5);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 16 });
    expect(got).toHaveLength(16);
    const split = byPartition(got);
    expect([...split.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const offsets of split.values()) expect(offsets).toEqual([1, 2]);
  });

  it("turns the partition that goes first, so fetches of one message reach every partition", async () => {
    const station = await partitionedStation(8);
    await fillEveryPartition(station, 8, 3);
    expect((await putGroup(station, "g")).status).toBe(201);
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const got = await fetchMessages(station, "g", { consumer: "c", max: 1 });
      expect(got).toHaveLength(1);
      seen.add(got[0].partition);
    }
    expect(seen.size).toBe(8);
  });

  it("finds the one partition that has messages even when max is below the partition count", async () => {
    const station = await partitionedStation(8);
    await produceKeyed(station, 8, [{ key: keyFor(5, 8), body: { only: true } }]);
    expect((await putGroup(station, "g")).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const got = await fetchMessages(station, "g", { consumer: "c", max: 1 });
      if (i === 0) {
        expect(got.map((m) => [m.partition, m.offset])).toEqual([[5, 1]]);
        await settle(station, "g", "ack", { messages: refsOf(got) });
      } else expect(got).toEqual([]);
    }
  });

  it("bounds a fetch by max across partitions", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 10);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 7 });
    expect(got).toHaveLength(7);
    const info = await readGroup(station, "g");
    expect(info.pending).toBe(7);
    expect(info.lag).toBe(33);
  });
});

describe("long-poll over partitions", () => {
  it("wakes when a message lands in any partition", async () => {
    const station = await partitionedStation(4);
    expect((await putGroup(station, "g")).status).toBe(201);
    let answered = false;
    const polling = fetchMessages(station, "g", { consumer: "c", max: 10, waitMs: 10_000 }).then((messages) => {
      answered = true;
      return messages;
    });
    await pass(300);
    expect(answered).toBe(false);
    await produceKeyed(station, 4, [{ key: keyFor(3, 4), body: { late: 1 } }]);
    const got = await polling;
    expect(got.map((m) => [m.partition, m.offset, m.body])).toEqual([[3, 1, { late: 1 }]]);
  });

  it("leaves no lease behind when it times out: the next message is handed out at once", async () => {
    const station = await partitionedStation(4);
    expect((await putGroup(station, "g")).status).toBe(201);
    expect(await fetchMessages(station, "g", { consumer: "c", max: 10, waitMs: 300 })).toEqual([]);
    await produceKeyed(station, 4, [{ key: keyFor(2, 4), body: { n: 1 } }]);
    expect((await readGroup(station, "g")).pending).toBe(0);
    const got = await fetchMessages(station, "g", { consumer: "d", max: 10 });
    expect(got.map((m) => [m.partition, m.offset, m.deliveries])).toEqual([[2, 1, 1]]);
  });

  it("waits on every partition without leasing, and ends the other partitions' waits once one woke it", async () => {
    const station = await partitionedStation(4);
    expect((await putGroup(station, "g")).status).toBe(201);
    const polling = fetchMessages(station, "g", { consumer: "c", max: 10, waitMs: 20_000 });
    await untilWatching(station, 4, 4);
    expect((await readGroup(station, "g")).pending).toBe(0);
    await produceKeyed(station, 4, [{ key: keyFor(1, 4), body: { n: 1 } }]);
    expect((await polling).map((m) => m.partition)).toEqual([1]);
    await untilWatching(station, 4, 0);
    // A message on another partition now: nobody waits for it, so it stays for the next fetch.
    await produceKeyed(station, 4, [{ key: keyFor(2, 4), body: { n: 2 } }]);
    const info = await readGroup(station, "g");
    expect(info.pending).toBe(1);
    expect(info.lag).toBe(1);
  });

  it("answers at once a piggybacked ack across partitions, then waits", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 1);
    expect((await putGroup(station, "g")).status).toBe(201);
    const first = await fetchMessages(station, "g", { consumer: "c", max: 10 });
    expect(first).toHaveLength(4);
    const res = await api("POST", `${groupPath(station, "g")}/fetch`, { consumer: "c", max: 10, waitMs: 200, ack: refsOf(first) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ messages: [], acked: 4 });
  });
});

describe("settling messages of several partitions", () => {
  it("acks by {partition, offset}; the offsets form names partition 0", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 2);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 8 });
    expect(got).toHaveLength(8);
    const others = got.filter((m) => m.partition !== 0);
    const ack = await settle(station, "g", "ack", { messages: refsOf(others) });
    expect(ack.body).toEqual({ acked: 6 });
    // Offsets name partition 0: offsets 1 and 2 there, whatever the other partitions hold.
    expect((await settle(station, "g", "ack", { offsets: [1, 2] })).body).toEqual({ acked: 2 });
    expect((await settle(station, "g", "ack", { messages: refsOf(got) })).body).toEqual({ acked: 0 });
    const info = await readGroup(station, "g");
    expect(info.acked).toBe(8);
    expect(info.partitions.map((p: any) => p.ackFloor)).toEqual([2, 2, 2, 2]);
  });

  it("refuses a ref to a partition the station does not have, settling nothing", async () => {
    const station = await partitionedStation(2);
    await fillEveryPartition(station, 2, 1);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 2 });
    const res = await settle(station, "g", "ack", { messages: [...refsOf(got), { partition: 5, offset: 1 }] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("partition_out_of_range");
    expect((await readGroup(station, "g")).acked).toBe(0);
  });

  it("hands a nacked message out again from its partition; past maxDeliveries it goes to that partition's DLS", async () => {
    const station = await partitionedStation(4, { dls: { onMaxDeliveries: true } });
    expect((await putGroup(station, "g", { maxDeliveries: 2 })).status).toBe(201);
    await produceKeyed(station, 4, [{ key: keyFor(3, 4), body: { bad: true } }]);
    const first = await fetchMessages(station, "g", { consumer: "c", max: 5 });
    expect(first.map((m) => [m.partition, m.offset, m.deliveries])).toEqual([[3, 1, 1]]);
    expect((await settle(station, "g", "nack", { messages: refsOf(first) })).body).toEqual({ nacked: 1 });
    const again = await fetchMessages(station, "g", { consumer: "c", max: 5 });
    expect(again.map((m) => [m.partition, m.offset, m.deliveries])).toEqual([[3, 1, 2]]);
    expect((await settle(station, "g", "nack", { messages: refsOf(again) })).body).toEqual({ nacked: 1 });
    expect(await fetchMessages(station, "g", { consumer: "c", max: 5 })).toEqual([]);
    const letters: any = await partitionStub(env, station, 3).listDeadLetters({});
    expect(letters.ok && letters.value.deadLetters.map((l: any) => [l.partition, l.offset, l.group, l.reason])).toEqual([[3, 1, "g", "max_deliveries"]]);
    const zero: any = await partitionStub(env, station, 0).listDeadLetters({});
    expect(zero.ok && zero.value.deadLetters).toEqual([]);
    const info = await readGroup(station, "g");
    expect(info.deadLetters).toBe(1);
    expect(info.partitions.find((p: any) => p.partition === 3).deadLetters).toBe(1);
  });

  it("extends and dead-letters by refs, summing the counts", async () => {
    const station = await partitionedStation(3);
    await fillEveryPartition(station, 3, 1);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 3 });
    const extended = await settle(station, "g", "extend", { consumer: "c", messages: refsOf(got) });
    expect(extended.body.extended).toBe(3);
    expect(extended.body.leaseUntil).toBeGreaterThan(Date.now());
    const other = await settle(station, "g", "extend", { consumer: "someone-else", messages: refsOf(got) });
    expect(other.body.extended).toBe(0);
    const dead = await settle(station, "g", "dead-letter", { messages: refsOf(got.slice(0, 2)), reason: "cannot parse" });
    expect(dead.body).toEqual({ deadLettered: 2 });
    const info = await readGroup(station, "g");
    expect(info.deadLetters).toBe(2);
    expect(info.pending).toBe(1);
  });
});

describe("moving a group over partitions", () => {
  it("a time seek moves every partition; an offset seek moves the partition it names", async () => {
    const station = await partitionedStation(3);
    await fillEveryPartition(station, 3, 3);
    expect((await putGroup(station, "g")).status).toBe(201);
    const all = await fetchMessages(station, "g", { consumer: "c", max: 100 });
    expect(all).toHaveLength(9);
    await settle(station, "g", "ack", { messages: refsOf(all) });
    const back = await api("POST", `${groupPath(station, "g")}/seek`, { to: { time: 0 } });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.partitions.map((p: any) => [p.nextOffset, p.epoch])).toEqual([[1, 1], [1, 1], [1, 1]]);
    expect(back.body.lag).toBe(9);
    const one = await api("POST", `${groupPath(station, "g")}/seek`, { to: { offset: 3, partition: 2 } });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body.partitions.map((p: any) => [p.partition, p.nextOffset, p.epoch])).toEqual([[0, 1, 1], [1, 1, 1], [2, 3, 2]]);
    expect(one.body.lag).toBe(7);
    const zero = await api("POST", `${groupPath(station, "g")}/seek`, { to: { offset: 4 } });
    expect(zero.body.partitions[0]).toMatchObject({ partition: 0, nextOffset: 4, epoch: 2 });
    const out = await api("POST", `${groupPath(station, "g")}/seek`, { to: { offset: 1, partition: 3 } });
    expect(out.status).toBe(422);
    expect(out.body.error.code).toBe("partition_out_of_range");
  });

  it("counts nothing for a late ack that names the epoch before a seek", async () => {
    const station = await partitionedStation(2);
    await fillEveryPartition(station, 2, 2);
    expect((await putGroup(station, "g")).status).toBe(201);
    const before = await fetchMessages(station, "g", { consumer: "c", max: 4 });
    const seek = await api("POST", `${groupPath(station, "g")}/seek`, { to: "earliest" });
    expect(seek.body.dropped).toBe(4);
    const after = await fetchMessages(station, "g", { consumer: "d", max: 4 });
    expect(after.every((m) => m.epoch === 1)).toBe(true);
    const late = await settle(station, "g", "ack", { messages: before.map((m) => ({ partition: m.partition, offset: m.offset, epoch: 0 })) });
    expect(late.body).toEqual({ acked: 0 });
    expect((await readGroup(station, "g")).pending).toBe(4);
    expect((await settle(station, "g", "ack", { messages: refsOf(after) })).body).toEqual({ acked: 4 });
  });
});

describe("a group's config and stats over partitions", () => {
  it("sums the partitions' stats and lists each", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 3);
    const put = await putGroup(station, "g", { ackTimeoutMs: 60_000 });
    expect(put.status).toBe(201);
    expect(put.body.lag).toBe(12);
    expect(put.body.partitions.map((p: any) => p.partition)).toEqual([0, 1, 2, 3]);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 6 });
    await settle(station, "g", "ack", { messages: refsOf(got.slice(0, 2)) });
    const info = await readGroup(station, "g");
    expect(info).toMatchObject({ name: "g", pending: 4, lag: 6, acked: 2, delivered: 6, ackTimeoutMs: 60_000 });
    expect(info.partitions.reduce((n: number, p: any) => n + p.pending, 0)).toBe(4);
    expect(info.consumers).toEqual([expect.objectContaining({ name: "c", pending: 4 })]);
    expect((await putGroup(station, "g", { ackTimeoutMs: 60_000 })).status).toBe(200);
  });

  it("applies a start position per partition; an offset start is partition 0's", async () => {
    const station = await partitionedStation(3);
    await fillEveryPartition(station, 3, 4);
    const latest = await putGroup(station, "late", { start: "latest" });
    expect(latest.body.lag).toBe(0);
    const last = await putGroup(station, "last", { start: { last: 1 } });
    expect(last.body.partitions.map((p: any) => p.nextOffset)).toEqual([4, 4, 4]);
    const offset = await putGroup(station, "at", { start: { offset: 3 } });
    expect(offset.status).toBe(201);
    expect(offset.body.partitions.map((p: any) => p.nextOffset)).toEqual([3, 1, 1]);
    expect(offset.body.start).toEqual({ offset: 3 });
    expect((await putGroup(station, "at", { start: { offset: 3 } })).status).toBe(200);
    expect((await putGroup(station, "at", { start: "earliest" })).body.error.code).toBe("group_start_fixed");
  });

  it("deletes a group on every partition; an unknown group is 404 everywhere", async () => {
    const station = await partitionedStation(3);
    expect((await putGroup(station, "g")).status).toBe(201);
    expect((await api("DELETE", groupPath(station, "g"))).body).toEqual({ name: "g", deleted: true });
    for (let p = 0; p < 3; p++) expect((await partitionStub(env, station, p).getGroup("g")).ok).toBe(false);
    expect((await api("DELETE", groupPath(station, "g"))).status).toBe(404);
    expect((await api("GET", groupPath(station, "g"))).body.error.code).toBe("group_not_found");
    expect((await api("POST", `${groupPath(station, "g")}/fetch`, { max: 1 })).status).toBe(404);
    expect((await api("POST", `${groupPath(station, "g")}/fetch`, { max: 1, waitMs: 200 })).status).toBe(404);
    expect((await settle(station, "g", "ack", { messages: [{ partition: 2, offset: 1 }] })).status).toBe(404);
  });

  it("a partition added after the group was made joins it from its head", async () => {
    const station = await partitionedStation(2);
    expect((await putGroup(station, "g", { start: "latest", maxDeliveries: 3 })).status).toBe(201);
    await growStation(station, 2, 4);
    // The Worker trusts the count it read for COUNT_TTL_MS.
    await pass(COUNT_TTL_MS + 100);
    await produceKeyed(station, 4, [{ key: keyFor(3, 4), body: { on: 3 } }]);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 10 });
    expect(got.map((m) => [m.partition, m.offset])).toEqual([[3, 1]]);
    const info = await readGroup(station, "g");
    expect(info.partitions).toHaveLength(4);
    expect(info.maxDeliveries).toBe(3);
    const joined: any = await partitionStub(env, station, 3).getGroup("g");
    expect(joined.ok && joined.value).toMatchObject({ start: "latest", maxDeliveries: 3 });
  });
});

describe("when one partition refuses", () => {
  /** Partition `p` of a 4-partition station gets a rate of 1 request/s, its burst spent at once. */
  async function throttle(station: string, p: number): Promise<void> {
    const config = v.parse(StationConfigSchema, { partitions: 4, rateLimit: { requestsPerSecond: 1 } });
    const made: any = await partitionStub(env, station, p).configure(station, config, p);
    expect(made.ok).toBe(true);
    let refused = false;
    for (let i = 0; i < 10 && !refused; i++) refused = !((await partitionStub(env, station, p).groupAck("g", [1_000_000])) as any).ok;
    expect(refused).toBe(true);
  }

  it("fills a fetch from the other partitions, leasing nothing it does not answer", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 4);
    expect((await putGroup(station, "g")).status).toBe(201);
    await throttle(station, 3);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 8 });
    expect(got).toHaveLength(8);
    expect(got.some((m) => m.partition === 3)).toBe(false);
    const info = await readGroup(station, "g");
    expect(info.pending).toBe(8);
    expect(info.partitions[3].pending).toBe(0);
  });

  it("answers an ack with that partition's error while the others settled; the same ack again is safe", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 1);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 4 });
    expect(got).toHaveLength(4);
    await throttle(station, 3);
    const first = await settle(station, "g", "ack", { messages: refsOf(got) });
    expect(first.status).toBe(429);
    expect(first.body.error.code).toBe("rate_limited");
    const between = await readGroup(station, "g");
    expect(between.partitions.map((p: any) => p.acked)).toEqual([1, 1, 1, 0]);
    await pass(2_100);
    const again = await settle(station, "g", "ack", { messages: refsOf(got) });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual({ acked: 1 });
    expect((await readGroup(station, "g")).acked).toBe(4);
  });
});

describe("a group deleted while calls are in flight", () => {
  it("answers 404 when partition 0 lost the group, whatever another partition still holds", async () => {
    const station = await partitionedStation(3);
    await fillEveryPartition(station, 3, 2);
    expect((await putGroup(station, "g")).status).toBe(201);
    expect(((await partitionStub(env, station, 0).deleteGroup("g")) as any).ok).toBe(true);
    const res = await api("POST", `${groupPath(station, "g")}/fetch`, { max: 10 });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("group_not_found");
  });

  it("a new PUT replaces a copy a partition kept of the deleted group", async () => {
    const station = await partitionedStation(3);
    await fillEveryPartition(station, 3, 2);
    expect((await putGroup(station, "g")).status).toBe(201);
    expect((await api("DELETE", groupPath(station, "g"))).status).toBe(200);
    // A call that raced the DELETE joined partition 2 back, with the old start.
    expect(((await partitionStub(env, station, 2).adoptGroup("g", { start: "earliest" })) as any).ok).toBe(true);
    const put = await putGroup(station, "g", { start: "latest" });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect(put.body.partitions.map((p: any) => p.nextOffset)).toEqual([3, 3, 3]);
  });
});

describe("a station of one partition", () => {
  it("answers as it always did: messages of partition 0, no partitions list, an offset seek of another partition refused", async () => {
    const station = await partitionedStation(1);
    await produceKeyed(station, 1, [{ key: "a", body: { n: 1 } }]);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 10 });
    expect(got.map((m) => [m.partition, m.offset])).toEqual([[0, 1]]);
    expect((await settle(station, "g", "ack", { messages: refsOf(got) })).body).toEqual({ acked: 1 });
    const info = await readGroup(station, "g");
    expect(info.partitions).toBeUndefined();
    expect(info.acked).toBe(1);
    const seek = await api("POST", `${groupPath(station, "g")}/seek`, { to: { offset: 1, partition: 1 } });
    expect(seek.status).toBe(422);
    expect(seek.body.error.code).toBe("partition_out_of_range");
  });
});

describe("through the station routes", () => {
  it("a station PUT with partitions, keyed produce, then a group drains every partition", async () => {
    const station = uniqueStation("pgr");
    const made = await api("PUT", `/v1/stations/${station}`, { partitions: 4 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const produced = await api("POST", `/v1/stations/${station}/messages`, { messages: Array.from({ length: 40 }, (_, n) => ({ key: `k${n % 10}`, body: { n } })) });
    expect(produced.status, JSON.stringify(produced.body)).toBe(200);
    expect(new Set(produced.body.results.map((r: any) => r.partition)).size).toBeGreaterThan(1);
    expect((await putGroup(station, "g")).status).toBe(201);
    const got = await fetchMessages(station, "g", { consumer: "c", max: 100 });
    expect(got).toHaveLength(40);
    expect(new Set(got.map((m) => `${m.partition}:${m.offset}`))).toEqual(new Set(produced.body.results.map((r: any) => `${r.partition}:${r.offset}`)));
    expect((await settle(station, "g", "ack", { messages: refsOf(got) })).body).toEqual({ acked: 40 });
    expect(await readGroup(station, "g")).toMatchObject({ acked: 40, lag: 0, pending: 0 });
  });
});
