// The server client's producer against a fake station behind `fetch`: batching, the same dedup
// ids on a retried batch (so a lost answer stores nothing twice), a persistent producer whose
// seqs are reserved in its store before sending and renumbered from the station's seq_gap, and
// refusals as WaystationError with the station's code.
import { describe, expect, it } from "vitest";
import { createServerClient, type ProducerState, WaystationError } from "../../../client/server/index";
import { partitionFor } from "../../../shared/partitions";
import { WaystationError as BrowserError } from "../../../client/errors";

interface Sent {
  producer?: string;
  messages: Array<{ seq?: number; id?: string; body: unknown }>;
}

/** A station that dedups by id and by (producer, seq), and loses the answers it is told to. */
function fakeStation(options: { loseAnswers?: number; expectedSeq?: number; refuse?: string } = {}) {
  const requests: Sent[] = [];
  const stored: unknown[] = [];
  const ids = new Map<string, number>();
  let next = options.expectedSeq ?? 1;
  let lose = options.loseAnswers ?? 0;
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init!.body)) as Sent;
    requests.push(body);
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { "waystation-protocol": "2" } });
    if (options.refuse) return json(404, { error: { code: options.refuse, message: "no" } });
    if (body.producer && body.messages[0]!.seq !== next && body.messages[0]!.seq! > next) {
      return json(409, { error: { code: "seq_gap", message: "gap", expectedSeq: next } });
    }
    const results = body.messages.map((m) => {
      const known = m.id !== undefined ? ids.get(m.id) : undefined;
      if (known !== undefined) return { seq: m.seq ?? null, partition: 0, offset: known, duplicate: true };
      stored.push(m.body);
      if (m.id !== undefined) ids.set(m.id, stored.length);
      if (m.seq !== undefined) next = m.seq + 1;
      return { seq: m.seq ?? null, partition: 0, offset: stored.length, duplicate: false };
    });
    if (lose > 0) {
      lose--;
      throw new TypeError("connection reset"); // stored, answer lost
    }
    return json(200, { results });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests, stored };
}

describe("server producer", () => {
  it("batches sends and resends a batch whose answer was lost with the same ids: stored once", async () => {
    const station = fakeStation({ loseAnswers: 1 });
    const client = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch });
    const producer = client.producer("s", { lingerMs: 5, backoffBaseMs: 1, backoffMaxMs: 2 });
    const results = await Promise.all([1, 2, 3].map((n) => producer.send({ n })));
    expect(station.requests).toHaveLength(2); // one batch, sent twice
    expect(station.requests[1]!.messages.map((m) => m.id)).toEqual(station.requests[0]!.messages.map((m) => m.id));
    expect(station.stored).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([[1, true], [2, true], [3, true]]);
  });

  it("with a store: seqs reserved before sending, and renumbered from seq_gap after a crash", async () => {
    // The store says seq 10 was reserved; the station only saw up to 7 (8–10 were lost in a crash).
    const saved: Array<{ producer: string; seq: number }> = [];
    const store = { load: () => ({ producer: "p-1", seq: 10 }), save: (s: { producer: string; seq: number }) => void saved.push({ ...s }) };
    const station = fakeStation({ expectedSeq: 8 });
    const producer = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch }).producer("s", { store, lingerMs: 0 });
    const first = await producer.send({ n: 1 });
    expect(saved[0]).toEqual({ producer: "p-1", seq: 11 }); // reserved before the request
    expect(station.requests.map((r) => r.messages[0]!.seq)).toEqual([11, 8]);
    expect(first).toMatchObject({ seq: 8, offset: 1, duplicate: false });
    expect(station.requests.every((r) => r.producer === "p-1" && r.messages.every((m) => m.id === undefined))).toBe(true);
  });

  it("rejects with the station's code as the browser's WaystationError, without retrying a refusal", async () => {
    const station = fakeStation({ refuse: "station_not_found" });
    const producer = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch }).producer("s", { lingerMs: 0 });
    const error = await producer.send({ n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaystationError);
    expect(error).toBeInstanceOf(BrowserError);
    expect(error).toMatchObject({ code: "station_not_found", status: 404 });
    expect(station.requests).toHaveLength(1);
    await producer.close();
    await expect(producer.send({ n: 2 })).rejects.toMatchObject({ code: "closed" });
  });
});

describe("server producer on a partitioned station", () => {
  /** A station of `partitions` partitions, each ruling its own (producer, seq): seq_gap for a seq that skips ahead. */
  function partitionedStation(partitions: number) {
    const requests: Array<{ producer?: string; partition?: number; messages: Array<{ seq?: number; key?: string; body: unknown }> }> = [];
    const logs = Array.from({ length: partitions }, () => [] as Array<{ seq: number; key?: string; body: unknown }>);
    const last = new Map<string, number>();
    const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const body = JSON.parse(String(init!.body)) as (typeof requests)[number];
      requests.push(body);
      const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { "waystation-protocol": "3" } });
      const partition = body.partition ?? 0;
      if (partition >= partitions) return json(422, { error: { code: "partition_out_of_range", message: "no", partitions } });
      const key = `${partition}:${body.producer}`;
      if (body.messages[0]!.seq !== (last.get(key) ?? 0) + 1) return json(409, { error: { code: "seq_gap", message: "gap", expectedSeq: (last.get(key) ?? 0) + 1 } });
      const results = body.messages.map((m) => {
        logs[partition]!.push({ seq: m.seq!, key: m.key, body: m.body });
        last.set(key, m.seq!);
        return { seq: m.seq, partition, offset: logs[partition]!.length, duplicate: false };
      });
      return json(200, { results, partitions });
    };
    return { fetch: fetch as typeof globalThis.fetch, requests, logs };
  }

  it("with a store: numbers each partition's messages 1, 2, 3… and sends each partition's part naming it, once it knows the count", async () => {
    let saved: ProducerState | null = null;
    const store = { load: () => saved, save: (s: ProducerState) => void (saved = structuredClone(s)) };
    const station = partitionedStation(4);
    const client = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch });
    const producer = client.producer("s", { store, lingerMs: 0 });
    // The count is not known yet: partition 0, named.
    expect(await producer.send({ n: 0 }, { key: "a" })).toMatchObject({ partition: 0, seq: 1 });
    await producer.flush();
    expect(saved).toMatchObject({ seq: 1, partitions: 4 });
    const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const results = await Promise.all(keys.flatMap((key) => [1, 2].map((n) => producer.send({ key, n }, { key }))));
    for (const [i, key] of keys.flatMap((k) => [k, k]).entries()) expect(results[i]!.partition).toBe(partitionFor(key, saved!.producer, 4));
    // Every partition's seqs are dense, and every request named the partition its messages were numbered for.
    for (const log of station.logs) expect(log.map((m) => m.seq)).toEqual(log.map((_, i) => i + 1));
    for (const r of station.requests) expect(r.partition).toBeTypeOf("number");
    for (const key of keys) {
      const partition = partitionFor(key, saved!.producer, 4)!;
      expect(station.logs[partition]!.filter((m) => m.key === key).map((m) => (m.body as { n: number }).n)).toEqual([1, 2]);
    }
    // A producer made again from the store goes on with each partition's numbering.
    const again = client.producer("s", { store, lingerMs: 0 });
    const next = await again.send({ n: 3 }, { key: keys[0] });
    expect(next.seq).toBe(station.logs[next.partition]!.length);
    for (const log of station.logs) expect(log.map((m) => m.seq)).toEqual(log.map((_, i) => i + 1));
  });
});
