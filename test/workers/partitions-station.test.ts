// A partitioned station's lifecycle (docs/partitions.md): create with `partitions`, grow (never
// shrink), info summed over the partitions and listed per partition, delete of every partition.
import { describe, expect, it } from "vitest";
import { partitionFor } from "../../shared/partitions";
import { api, createStation, produce, uniqueStation } from "./helpers";
import { keyIn, readPartition } from "./partitions-helpers";

describe("partitioned station config", () => {
  it("grows from 1 to 4: old messages stay in partition 0, new ones go by 4", async () => {
    const station = await createStation();
    const keys = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    expect((await produce(station, { messages: keys.map((key) => ({ key, body: `old-${key}` })) })).status).toBe(200);
    const grown = await api("PUT", `/v1/stations/${station}`, { partitions: 4 });
    expect(grown.status).toBe(200);
    expect(grown.body.config.partitions).toBe(4);
    expect(grown.body.partitions.map((p: any) => p.partition)).toEqual([0, 1, 2, 3]);
    const res = await produce(station, { messages: keys.map((key) => ({ key, body: `new-${key}` })) });
    expect(res.status).toBe(200);
    expect(res.body.partitions).toBe(4);
    res.body.results.forEach((result: any, i: number) => expect(result.partition).toBe(partitionFor(keys[i]!, null, 4)));
    const zero = await readPartition(station, 0);
    expect(zero.slice(0, keys.length).map((m) => m.body)).toEqual(keys.map((key) => `old-${key}`));
    for (let partition = 0; partition < 4; partition++) {
      const news = (await readPartition(station, partition)).filter((m) => String(m.body).startsWith("new-"));
      expect(news.map((m) => m.key)).toEqual(keys.filter((key) => partitionFor(key, null, 4) === partition));
    }
  });

  it("refuses to shrink (409), a partitioned doc station (422) and a partition it lacks (422)", async () => {
    const station = await createStation({ partitions: 4 });
    const shrink = await api("PUT", `/v1/stations/${station}`, { partitions: 2 });
    expect(shrink.status).toBe(409);
    expect(shrink.body.error).toMatchObject({ code: "partitions_shrink", partitions: 4 });
    // Leaving partitions out asks for the default, 1: also a shrink.
    expect((await api("PUT", `/v1/stations/${station}`, {})).status).toBe(409);
    expect((await api("GET", `/v1/stations/${station}`)).body.config.partitions).toBe(4);

    const doc = await api("PUT", `/v1/stations/${uniqueStation()}`, { kind: "doc", partitions: 2 });
    expect(doc.status).toBe(422);
    expect(doc.body.error.code).toBe("invalid_request");
    expect(doc.body.error.message).toMatch(/doc station/);

    const outside = await api("GET", `/v1/stations/${station}/messages?partition=7`);
    expect(outside.status).toBe(422);
    expect(outside.body.error).toMatchObject({ code: "partition_out_of_range", partitions: 4 });
    expect((await api("GET", `/v1/stations/${station}/messages?partition=32`)).status).toBe(422);
    expect((await api("PUT", `/v1/stations/${uniqueStation()}`, { partitions: 33 })).status).toBe(422);
  });
});

describe("partitioned station info", () => {
  it("sums stats and groups over the partitions and lists each", async () => {
    const station = await createStation({ partitions: 3 });
    const [k0, k1, k2] = [keyIn(0, 3), keyIn(1, 3), keyIn(2, 3)];
    const messages = [k0, k1, k1, k2, k2, k2].map((key) => ({ key, body: { key } }));
    expect((await produce(station, { messages })).status).toBe(200);
    expect((await api("PUT", `/v1/stations/${station}/groups/workers`, {})).status).toBeLessThan(300);
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.status).toBe(200);
    expect(info.body.partitions).toHaveLength(3);
    expect(info.body.partitions.map((p: any) => [p.partition, p.stats.messages, p.stats.lastOffset])).toEqual([
      [0, 1, 1],
      [1, 2, 2],
      [2, 3, 3],
    ]);
    expect(info.body.stats.messages).toBe(6);
    expect(info.body.stats.produced).toBe(6);
    expect(info.body.stats.bytes).toBe(info.body.partitions.reduce((total: number, p: any) => total + p.stats.bytes, 0));
    // Offsets count within a partition: the summed stats carry partition 0's.
    expect(info.body.stats.lastOffset).toBe(1);
    expect(info.body.stats.firstOffset).toBe(1);
    const workers = info.body.groups.find((g: any) => g.name === "workers");
    expect(workers).toBeDefined();
    expect(workers.lag).toBe(info.body.partitions.reduce((total: number, p: any) => total + (p.groups.find((g: any) => g.name === "workers")?.lag ?? 0), 0));
    const produced = info.body.throughput.reduce((total: number, bucket: any) => total + bucket.produced, 0);
    expect(produced).toBe(6);
  });

  it("lists the one partition of an unpartitioned station, as before otherwise", async () => {
    const station = await createStation();
    expect((await produce(station, { messages: [{ body: 1 }, { body: 2 }] })).status).toBe(200);
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.status).toBe(200);
    expect(info.body.stats).toMatchObject({ firstOffset: 1, lastOffset: 2, messages: 2 });
    expect(info.body.partitions).toEqual([{ partition: 0, stats: info.body.stats, groups: info.body.groups }]);
  });
});

describe("partitioned station delete", () => {
  it("deletes every partition: made again, each partition is empty", async () => {
    const station = await createStation({ partitions: 4 });
    const messages = Array.from({ length: 4 }, (_, partition) => ({ key: keyIn(partition, 4), body: partition }));
    expect((await produce(station, { producer: "before", messages: messages.map((m) => ({ ...m, seq: 1 })) })).status).toBe(200);
    const deleted = await api("DELETE", `/v1/stations/${station}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ name: station, deleted: true });
    expect((await api("GET", `/v1/stations/${station}`)).status).toBe(404);
    expect((await produce(station, { messages })).status).toBe(404);
    const listed = await api("GET", "/v1/stations");
    expect(listed.body.stations.some((s: any) => s.name === station)).toBe(false);

    // Made again with fewer partitions: nothing of the old ones is left, and routing follows the new count.
    expect((await api("PUT", `/v1/stations/${station}`, { partitions: 2 })).status).toBe(201);
    for (let partition = 0; partition < 2; partition++) expect(await readPartition(station, partition)).toEqual([]);
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats.messages).toBe(0);
    expect(info.body.partitions).toHaveLength(2);
    // The producer's seqs start over: its old rulings went with the old partitions.
    const again = await produce(station, { producer: "before", messages: [{ seq: 1, key: keyIn(1, 2), body: "again" }] });
    expect(again.status).toBe(200);
    expect(again.body.results[0]).toEqual({ seq: 1, partition: 1, offset: 1, duplicate: false });
    expect(again.body.partitions).toBe(2);
  });
});
