// Produce to a partitioned station (docs/partitions.md): messages go by key, else by producer;
// a producer's seqs are per partition, each partition ruling on its own stream; a batch that
// spans partitions is answered in batch order, each result with its partition, and a part
// whose partition refused it whole comes back `unruled` while the other parts stand.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { partitionFor } from "../../shared/partitions";
import type { Env } from "../../worker/env";
import { parseProduceRequest } from "../../worker/http/produce-request";
import { rememberPartitionCount } from "../../worker/partitions/objects";
import { produceToStation } from "../../worker/partitions/produce";
import { api, createStation, produce } from "./helpers";
import { keyIn, PartitionSeqs, producerIn, readPartition } from "./partitions-helpers";

const PARTITIONS = 8;

async function readEvery(station: string, partitions: number): Promise<any[][]> {
  return Promise.all(Array.from({ length: partitions }, (_, partition) => readPartition(station, partition)));
}

describe("produce to a partitioned station", () => {
  it("keeps each key's messages in one partition, in produce order, from keyed sequenced, keyed unsequenced and keyless producers", async () => {
    const station = await createStation({ partitions: PARTITIONS });
    // Each key has one writer, so its produce order is that writer's order.
    const sequenced = Array.from({ length: 4 }, (_, i) => ({ producer: `seq-producer-${i}`, keys: Array.from({ length: 6 }, (_, k) => `s${i}-key-${k}`) }));
    const unsequenced = Array.from({ length: 3 }, (_, i) => ({ keys: Array.from({ length: 5 }, (_, k) => `u${i}-key-${k}`) }));
    const keyless = Array.from({ length: 3 }, (_, i) => `keyless-producer-${i}`);
    const counter = new Map<string, number>();
    const nextN = (key: string) => {
      const n = (counter.get(key) ?? 0) + 1;
      counter.set(key, n);
      return n;
    };
    const rounds = 5;
    await Promise.all([
      ...sequenced.map(async ({ producer, keys }) => {
        const seqs = new PartitionSeqs(producer, PARTITIONS);
        for (let round = 0; round < rounds; round++) {
          const messages = keys.flatMap((key) => [0, 1].map(() => ({ seq: seqs.take(key), key, body: { key, n: nextN(key) } })));
          const res = await produce(station, { producer, messages });
          expect(res.status).toBe(200);
          expect(res.body.partitions).toBe(PARTITIONS);
          res.body.results.forEach((result: any, i: number) => {
            expect(result).toMatchObject({ seq: messages[i]!.seq, duplicate: false, partition: partitionFor(messages[i]!.key, producer, PARTITIONS) });
            expect(result.offset).toBeGreaterThan(0);
          });
        }
      }),
      ...unsequenced.map(async ({ keys }) => {
        for (let round = 0; round < rounds; round++) {
          const messages = keys.map((key) => ({ key, body: { key, n: nextN(key) } }));
          const res = await produce(station, { messages });
          expect(res.status).toBe(200);
          res.body.results.forEach((result: any, i: number) => expect(result.partition).toBe(partitionFor(messages[i]!.key, null, PARTITIONS)));
        }
      }),
      ...keyless.map(async (producer) => {
        let seq = 0;
        for (let round = 0; round < rounds; round++) {
          const messages = [1, 2, 3].map(() => ({ seq: ++seq, body: { key: `producer:${producer}`, n: nextN(`producer:${producer}`) } }));
          const res = await produce(station, { producer, messages });
          expect(res.status).toBe(200);
          for (const result of res.body.results) expect(result.partition).toBe(partitionFor(null, producer, PARTITIONS));
        }
      }),
    ]);

    const all = await readEvery(station, PARTITIONS);
    const seen = new Map<string, { partition: number; ns: number[] }>();
    all.forEach((messages, partition) => {
      messages.forEach((message, index) => {
        expect(message.partition).toBe(partition);
        expect(message.offset).toBe(index + 1);
        const key: string = message.body.key;
        const entry = seen.get(key) ?? { partition, ns: [] };
        expect(entry.partition).toBe(partition);
        entry.ns.push(message.body.n);
        seen.set(key, entry);
      });
    });
    expect([...seen.keys()].sort()).toEqual([...counter.keys()].sort());
    for (const [key, { partition, ns }] of seen) {
      if (!key.startsWith("producer:")) expect(partition).toBe(partitionFor(key, null, PARTITIONS));
      expect(ns).toEqual(Array.from({ length: counter.get(key)! }, (_, i) => i + 1));
    }
    // The keys spread: more than one partition holds messages.
    expect(all.filter((messages) => messages.length > 0).length).toBeGreaterThan(1);
  });

  it("keeps a keyless sequenced producer's stream in one partition, in seq order", async () => {
    const station = await createStation({ partitions: PARTITIONS });
    const producer = producerIn(5, PARTITIONS, "keyless");
    for (const from of [1, 4, 7]) {
      const res = await produce(station, { producer, messages: [0, 1, 2].map((i) => ({ seq: from + i, body: { s: from + i } })) });
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: any) => [r.partition, r.offset])).toEqual([0, 1, 2].map((i) => [5, from + i]));
    }
    const messages = await readPartition(station, 5);
    expect(messages.map((m) => [m.producer, m.seq, m.partition])).toEqual(Array.from({ length: 9 }, (_, i) => [producer, i + 1, 5]));
  });

  it("rules seqs per (producer, partition): a spanning batch resent gets the same rulings as duplicates", async () => {
    const station = await createStation({ partitions: PARTITIONS });
    const [a, b] = [keyIn(1, PARTITIONS, "a"), keyIn(2, PARTITIONS, "b")];
    const producer = "spanning-producer";
    // Seq 1 in both partitions: each partition counts the producer's stream on its own.
    const batch = {
      producer,
      messages: [
        { seq: 1, key: a, body: "a1" },
        { seq: 1, key: b, body: "b1" },
        { seq: 2, key: a, body: "a2" },
        { seq: 2, key: b, body: "b2" },
        { seq: 3, key: a, body: "a3" },
      ],
    };
    const first = await produce(station, batch);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      { seq: 1, partition: 1, offset: 1, duplicate: false },
      { seq: 1, partition: 2, offset: 1, duplicate: false },
      { seq: 2, partition: 1, offset: 2, duplicate: false },
      { seq: 2, partition: 2, offset: 2, duplicate: false },
      { seq: 3, partition: 1, offset: 3, duplicate: false },
    ]);
    const again = await produce(station, batch);
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual(first.body.results.map((result: any) => ({ ...result, duplicate: true })));
    expect((await readPartition(station, 1)).map((m) => m.body)).toEqual(["a1", "a2", "a3"]);
    expect((await readPartition(station, 2)).map((m) => m.body)).toEqual(["b1", "b2"]);
  });

  it("answers a seq gap on one partition as unruled there and rules the other part; a resend rules the rest", async () => {
    const station = await createStation({ partitions: PARTITIONS });
    const [a, b] = [keyIn(3, PARTITIONS, "a"), keyIn(6, PARTITIONS, "b")];
    const producer = "gap-producer";
    expect((await produce(station, { producer, messages: [{ seq: 1, key: a, body: "a1" }, { seq: 1, key: b, body: "b1" }] })).status).toBe(200);
    // Partition 3 expects seq 2 next: seq 3 skips ahead. Partition 6 takes its seq 2.
    const gapped = await produce(station, { producer, messages: [{ seq: 3, key: a, body: "a3" }, { seq: 2, key: b, body: "b2" }] });
    expect(gapped.status).toBe(200);
    expect(gapped.body.partitions).toBe(PARTITIONS);
    expect(gapped.body.results[0]).toMatchObject({ seq: 3, partition: 3, offset: null, duplicate: false, unruled: { code: "seq_gap", expectedSeq: 2 } });
    expect(gapped.body.results[1]).toEqual({ seq: 2, partition: 6, offset: 2, duplicate: false });
    // The producer fills the gap and sends the unruled message again with the rest.
    const resent = await produce(station, { producer, messages: [{ seq: 2, key: a, body: "a2" }, { seq: 3, key: a, body: "a3" }, { seq: 2, key: b, body: "b2" }] });
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual([
      { seq: 2, partition: 3, offset: 2, duplicate: false },
      { seq: 3, partition: 3, offset: 3, duplicate: false },
      { seq: 2, partition: 6, offset: 2, duplicate: true },
    ]);
    // A batch whose every part fails is answered with that error, as on an unpartitioned station.
    const allGapped = await produce(station, { producer, messages: [{ seq: 9, key: a, body: "a9" }] });
    expect(allGapped.status).toBe(409);
    expect(allGapped.body.error).toMatchObject({ code: "seq_gap", expectedSeq: 4 });
  });

  it("answers a part over its partition's quota as unruled and stores the other parts; a resend after space is freed rules the rest", async () => {
    const station = await createStation({ partitions: 4, maxStorageBytes: 400 });
    const [full, roomy] = [keyIn(0, 4, "full"), keyIn(3, 4, "roomy")];
    const producer = "quota-producer";
    const big = "x".repeat(300);
    expect((await produce(station, { producer, messages: [{ seq: 1, key: full, body: big }] })).status).toBe(200);
    const spanning = { producer, messages: [{ seq: 2, key: full, body: big }, { seq: 1, key: roomy, body: "fits" }] };
    const answered = await produce(station, spanning);
    expect(answered.status).toBe(200);
    expect(answered.body.results[0]).toMatchObject({ seq: 2, partition: 0, offset: null, duplicate: false, unruled: { code: "quota_exceeded" } });
    expect(answered.body.results[1]).toEqual({ seq: 1, partition: 3, offset: 1, duplicate: false });
    // The quota is per partition: grow it, and the same batch is ruled whole (partition 3's seq as a duplicate).
    expect((await api("PUT", `/v1/stations/${station}`, { partitions: 4, maxStorageBytes: 10_000 })).status).toBe(200);
    const resent = await produce(station, spanning);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual([
      { seq: 2, partition: 0, offset: 2, duplicate: false },
      { seq: 1, partition: 3, offset: 1, duplicate: true },
    ]);
  });

  it("answers a part over its partition's rate as unruled (429 when every part is)", async () => {
    const station = await createStation({ partitions: 2, rateLimit: { requestsPerSecond: 1 } });
    const [zero, one] = [keyIn(0, 2, "zero"), keyIn(1, 2, "one")];
    // Reads spend partition 0's burst until it refuses; partition 1's is untouched.
    const drain = async () => {
      for (let i = 0; i < 10; i++) if ((await api("GET", `/v1/stations/${station}/messages?partition=0`)).status === 429) return;
      throw new Error("partition 0 never refused a read");
    };
    await drain();
    const res = await produce(station, { messages: [{ key: zero, body: 1 }, { key: one, body: 2 }] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ seq: null, partition: 0, offset: null, duplicate: false, unruled: { code: "rate_limited" } });
    expect(res.body.results[1]).toEqual({ seq: null, partition: 1, offset: 1, duplicate: false });
    await drain();
    const refused = await produce(station, { messages: [{ key: zero, body: 3 }] });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    expect(refused.headers.get("retry-after")).not.toBeNull();
  });

  it("keeps a request's keyless, producerless messages together and rotates them over the partitions", async () => {
    const station = await createStation({ partitions: 4 });
    const partitionsUsed = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const res = await produce(station, { messages: [{ body: i }, { body: i }, { body: i }] });
      expect(res.status).toBe(200);
      const parts = new Set(res.body.results.map((r: any) => r.partition));
      expect(parts.size).toBe(1);
      partitionsUsed.add([...parts][0] as number);
    }
    expect(partitionsUsed.size).toBeGreaterThan(1);
  });

  it("rules a message refused at the edge in its key's partition, so the key's stream has no gap", async () => {
    const station = await createStation({ partitions: PARTITIONS });
    const key = keyIn(6, PARTITIONS, "edge");
    const producer = producerIn(1, PARTITIONS, "edge-producer");
    // Seq 2's headers break the contract: it is refused, and its seq consumed in the key's partition.
    const res = await produce(station, {
      producer,
      messages: [
        { seq: 1, key, body: 1 },
        { seq: 2, key, body: 2, headers: { bad: 7 } },
        { seq: 3, key, body: 3 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.partition, r.offset, r.refused?.code ?? null])).toEqual([
      [6, 1, null],
      [6, null, "invalid_request"],
      [6, 2, null],
    ]);
  });

  it("sends a batch naming its partition there whole, whatever its keys, and refuses a partition the station lacks", async () => {
    const station = await createStation({ partitions: 4 });
    const producer = "sdk-producer";
    const res = await produce(station, { producer, partition: 2, messages: [{ seq: 1, key: keyIn(0, 4), body: 1 }, { seq: 2, key: keyIn(3, 4), body: 2 }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.partition, r.offset])).toEqual([[2, 1], [2, 2]]);
    const outside = await produce(station, { producer, partition: 4, messages: [{ seq: 3, body: 3 }] });
    expect(outside.status).toBe(422);
    expect(outside.body.error).toMatchObject({ code: "partition_out_of_range", partitions: 4 });
    const read = await api("GET", `/v1/stations/${station}/messages?partition=4`);
    expect(read.status).toBe(422);
    expect(read.body.error.code).toBe("partition_out_of_range");
  });
});

describe("produce by a stale partition count", () => {
  it("routes again, by a fresh count, the messages sent to a partition the station no longer has", async () => {
    const station = await createStation({ partitions: 2 });
    // As if the station had 8 partitions when this isolate last looked (deleted and made again smaller since).
    rememberPartitionCount(station, 8);
    const keys = Array.from({ length: 12 }, (_, i) => `stale-${i}`);
    expect(keys.some((key) => partitionFor(key, null, 8)! >= 2)).toBe(true);
    const answered = await produceToStation(env as unknown as Env, station, parseProduceRequest({ messages: keys.map((key) => ({ key, body: key })) }));
    expect(answered.ok).toBe(true);
    if (!answered.ok) return;
    expect(answered.value.partitions).toBe(2);
    answered.value.results.forEach((result, i) => {
      expect(result.unruled).toBeUndefined();
      expect(result.offset).not.toBeNull();
      const by8 = partitionFor(keys[i]!, null, 8)!;
      // Those the stale count sent to partition 0 or 1 were stored there; the rest went by the fresh count.
      expect(result.partition).toBe(by8 < 2 ? by8 : partitionFor(keys[i]!, null, 2));
    });
    const stored = [...(await readPartition(station, 0)), ...(await readPartition(station, 1))].map((m) => m.body).sort();
    expect(stored).toEqual([...keys].sort());
  });

  it("checks a named partition beyond the cached count against a fresh count before refusing it", async () => {
    const station = await createStation({ partitions: 4 });
    rememberPartitionCount(station, 1);
    const res = await produce(station, { producer: "grown-elsewhere", partition: 3, messages: [{ seq: 1, body: 1 }] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ partition: 3, offset: 1 });
    rememberPartitionCount(station, 1);
    expect((await api("GET", `/v1/stations/${station}/messages?partition=3`)).body.messages).toHaveLength(1);
  });
});

describe("produce to an unpartitioned station", () => {
  it("answers as before, each result with partition 0 and the count 1", async () => {
    const station = await createStation();
    const res = await produce(station, { producer: "plain", messages: [{ seq: 1, key: "k", body: 1 }, { seq: 2, body: 2 }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      results: [
        { seq: 1, partition: 0, offset: 1, duplicate: false },
        { seq: 2, partition: 0, offset: 2, duplicate: false },
      ],
      partitions: 1,
    });
    const gap = await produce(station, { producer: "plain", messages: [{ seq: 5, body: 5 }] });
    expect(gap.status).toBe(409);
    expect(gap.body.error).toMatchObject({ code: "seq_gap", expectedSeq: 3 });
    const read = await api("GET", `/v1/stations/${station}/messages`);
    expect(read.body.messages.map((m: any) => [m.partition, m.offset])).toEqual([[0, 1], [0, 2]]);
    const missing = await produce("no-such-station-here", { messages: [{ body: 1 }] });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("station_not_found");
  });
});
