// Tiered storage (`retention.archive`, issue 19 item 5): retention writes what it trims to R2
// segments before deleting it, replay from offset 1 reads it all back in order, a run cut short
// between the put and the delete loses and duplicates nothing, groups start at the held head,
// and a worker without the bucket refuses the setting.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { StationConfigSchema } from "../../shared/config";
import { MAX_READ_BYTES } from "../../shared/limits";
import { api, createStation, uniqueStation } from "./helpers";
import { createGroups, groupInfo, produceN, stationInfo, stationStub, take } from "./groups-helpers";

const run = runInDurableObject as unknown as <T>(stub: unknown, fn: (instance: any, state: DurableObjectState) => T | Promise<T>) => Promise<T>;

/** Runs the station's alarm until retention has nothing left to do (each run moves at most 10,000). */
async function archiveAll(station: string): Promise<number> {
  let runs = 0;
  for (;;) {
    const before = (await stationInfo(station)).stats.firstOffset;
    await run(stationStub(station), (instance) => instance.alarm());
    runs += 1;
    if ((await stationInfo(station)).stats.firstOffset === before) return runs;
  }
}

/** Every message from `from` on, page by page (limit 1000), as the API gives them. */
async function replayAll(station: string, from = 1): Promise<any[]> {
  const all: any[] = [];
  let next = from;
  for (;;) {
    const res = await api("GET", `/v1/stations/${station}/messages?from=${next}&limit=1000`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.messages.length === 0) return all;
    all.push(...res.body.messages);
    next = res.body.nextOffset;
  }
}

async function segmentKeys(station: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const listed = await env.ARCHIVE!.list({ prefix: `stations/${station}/`, cursor });
    keys.push(...listed.objects.map((o) => o.key));
    if (!listed.truncated) return keys;
    cursor = listed.cursor;
  }
}

/** The [first, last] ranges the keys name, in key order. */
const rangesOf = (keys: string[]) => keys.map((k) => k.match(/(\d+)-(\d+)\.ndjson$/)!.slice(1, 3).map(Number) as [number, number]);

function expectDenseFromOne(messages: any[], count: number): void {
  expect(messages.length).toBe(count);
  const wrong = messages.findIndex((m, i) => m.offset !== i + 1 || m.body.n !== i + 1);
  expect(wrong, wrong >= 0 ? JSON.stringify(messages[wrong]) : "").toBe(-1);
}

describe("retention.archive", () => {
  it("archives 100,000 messages to R2 segments and a replay from offset 1 returns every one in order", async () => {
    const total = 100_000;
    const station = await createStation({ retention: { maxMessages: 1_000, archive: true } });
    await produceN(station, total);
    await archiveAll(station);
    const { stats } = await stationInfo(station);
    // The object holds the newest 1,000; the rest is in R2, counted apart and outside the quota.
    expect(stats).toMatchObject({ firstOffset: total - 999, lastOffset: total, messages: 1_000, archivedMessages: total - 1_000 });
    expect(stats.archivedBytes).toBeGreaterThan(0);
    expect(stats.storedBytes).toBeLessThan(stats.archivedBytes / 50);
    // Segments tile 1..99,000 exactly, in key order, none over 5,000 messages.
    const ranges = rangesOf(await segmentKeys(station));
    expect(ranges[0]![0]).toBe(1);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1] + 1);
    expect(ranges.at(-1)![1]).toBe(total - 1_000);
    expect(ranges.every(([first, last]) => last - first < 5_000)).toBe(true);
    expectDenseFromOne(await replayAll(station), total);
  }, 180_000);

  it("a replay page crossing from the archive into the object is dense and bounded by limit", async () => {
    const station = await createStation({ retention: { maxMessages: 5, archive: true } });
    await produceN(station, 20);
    await archiveAll(station);
    expect((await stationInfo(station)).stats).toMatchObject({ firstOffset: 16, archivedMessages: 15 });
    const page = await api("GET", `/v1/stations/${station}/messages?from=12&limit=6`);
    expect(page.body.messages.map((m: any) => m.offset)).toEqual([12, 13, 14, 15, 16, 17]);
    expect(page.body.nextOffset).toBe(18);
    // No `from`: the lowest readable offset, archived.
    expect((await api("GET", `/v1/stations/${station}/messages?limit=2`)).body.messages.map((m: any) => m.offset)).toEqual([1, 2]);
  });

  it("cuts a replay of archived large messages at MAX_READ_BYTES across segments, and segments at 4 MiB", async () => {
    const station = await createStation({ retention: { maxMessages: 10, archive: true } });
    const body = (n: number) => ({ n, pad: "r".repeat(24 * 1024) });
    for (let start = 1; start <= 1000; start += 250) {
      const res = await api("POST", `/v1/stations/${station}/messages`, { messages: Array.from({ length: 250 }, (_, i) => ({ body: body(start + i) })) });
      expect(res.status).toBe(200);
    }
    await archiveAll(station);
    expect((await stationInfo(station)).stats).toMatchObject({ firstOffset: 991, archivedMessages: 990 });
    const ranges = rangesOf(await segmentKeys(station));
    expect(ranges.length).toBeGreaterThan(1);
    const size = JSON.stringify(body(1000)).length;
    expect(ranges.every(([first, last]) => (last - first + 1) * size <= 4 * 1024 * 1024)).toBe(true);
    const first = await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`);
    const count = first.body.messages.length;
    expect(count).toBeGreaterThan(ranges[0]![1]); // more than one segment's worth
    expect(count).toBeLessThan(990);
    expect(count * size).toBeLessThanOrEqual(MAX_READ_BYTES);
    expect(first.body.nextOffset).toBe(count + 1);
    const all = [...first.body.messages];
    let next = first.body.nextOffset;
    while (next <= 1000) {
      const page = await api("GET", `/v1/stations/${station}/messages?from=${next}&limit=1000`);
      expect(page.body.messages.length).toBeGreaterThan(0);
      all.push(...page.body.messages);
      next = page.body.nextOffset;
    }
    expectDenseFromOne(all, 1000);
  }, 120_000);

  it("a run cut short between the R2 put and the delete, then a restart, loses nothing and duplicates nothing", async () => {
    const total = 12_000;
    const station = await createStation({ retention: { archive: true } });
    const stub = stationStub(station);
    // Every run reaches R2 with its first segment, then dies before the segment's rows leave the
    // log (alarms also fire on their own here: the hook is in place before anything is due).
    await run(stub, (instance) => {
      instance.archiver.afterPut = () => {
        instance.cuts = (instance.cuts ?? 0) + 1;
        throw new Error("cut between put and delete");
      };
    });
    await produceN(station, total);
    expect((await api("PUT", `/v1/stations/${station}`, { retention: { maxMessages: 1, archive: true } })).status).toBe(200);
    const cut = await run(stub, (instance) => instance.alarm().then(() => "completed", (error: Error) => error.message));
    expect(cut).toBe("cut between put and delete");
    const keysAfterCut = await segmentKeys(station);
    // However many runs were cut, they all wrote the same range under the same key.
    expect(keysAfterCut.length).toBe(1);
    expect(await run(stub, (instance) => instance.cuts)).toBeGreaterThanOrEqual(1);
    expect((await stationInfo(station)).stats).toMatchObject({ firstOffset: 1, messages: total, archivedMessages: 0 });
    // Restart: the object is evicted and comes back from storage alone (the hook dies with it).
    await run(stub, (_instance, state) => state.abort("restart")).catch(() => undefined);
    // More messages arrive: the next run still writes the cut range again, not a longer one.
    await produceN(station, 10, total + 1);
    await archiveAll(station);
    const keys = await segmentKeys(station);
    expect(keys[0]).toBe(keysAfterCut[0]);
    const ranges = rangesOf(keys);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1] + 1);
    expect((await stationInfo(station)).stats).toMatchObject({ firstOffset: total + 10, messages: 1, archivedMessages: total + 9 });
    expectDenseFromOne(await replayAll(station), total + 10);
  }, 120_000);

  it("the storage quota bounds what the object holds, not what the station archived", async () => {
    const station = await createStation({ maxStorageBytes: 200_000, retention: { maxMessages: 50, archive: true } });
    const batch = (from: number) => ({ messages: Array.from({ length: 100 }, (_, i) => ({ body: { n: from + i, pad: "q".repeat(1000) } })) });
    for (let from = 1; from <= 1000; from += 100) {
      const res = await api("POST", `/v1/stations/${station}/messages`, batch(from));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await archiveAll(station);
    }
    const { stats } = await stationInfo(station);
    expect(stats).toMatchObject({ messages: 50, archivedMessages: 950 });
    expect(stats.archivedBytes).toBeGreaterThan(200_000 * 4);
    expect(stats.storedBytes).toBeLessThan(200_000);
    // Archiving does not lift the bound on the object: a batch that cannot fit is still 507.
    const big = await api("POST", `/v1/stations/${station}/messages`, { messages: Array.from({ length: 200 }, () => ({ body: { pad: "q".repeat(1000) } })) });
    expect(big.status).toBe(507);
    expect(big.body.error.code).toBe("quota_exceeded");
    expectDenseFromOne(await replayAll(station), 1000);
  }, 60_000);

  it("groups start and seek at the object's first held offset; archived offsets stay readable by replay", async () => {
    const station = await createStation({ retention: { maxMessages: 3, archive: true } });
    await produceN(station, 10);
    await archiveAll(station);
    await createGroups(station, ["g"], { start: "earliest" });
    expect((await take(station, "g", "c", 100)).map((m) => m.offset)).toEqual([8, 9, 10]);
    const seek = await api("POST", `/v1/stations/${station}/groups/g/seek`, { to: { offset: 1 } });
    expect(seek.status, JSON.stringify(seek.body)).toBe(200);
    expect(seek.body.nextOffset).toBe(8);
    expect((await groupInfo(station, "g")).nextOffset).toBe(8);
    expect((await api("GET", `/v1/stations/${station}/messages?from=1&limit=3`)).body.messages.map((m: any) => m.body.n)).toEqual([1, 2, 3]);
  });

  it("refuses archive on a worker without an R2 bucket (409 archive_unavailable) and with untilAcked (422)", async () => {
    const name = uniqueStation();
    const config = v.parse(StationConfigSchema, { retention: { maxMessages: 5, archive: true } });
    const refused = await run(stationStub(name), async (instance) => {
      const bound = instance.env;
      instance.env = { ...bound, ARCHIVE: undefined };
      try {
        return await instance.configure(name, config);
      } finally {
        instance.env = bound;
      }
    });
    expect(refused).toMatchObject({ ok: false, error: { code: "archive_unavailable" } });
    const both = await api("PUT", `/v1/stations/${uniqueStation()}`, { retention: { untilAcked: true, archive: true } });
    expect(both.status).toBe(422);
    expect(both.body.error.code).toBe("invalid_request");
  });

  it("deleting the station deletes its segments", async () => {
    const station = await createStation({ retention: { maxMessages: 1, archive: true } });
    await produceN(station, 50);
    await archiveAll(station);
    expect((await segmentKeys(station)).length).toBeGreaterThan(0);
    expect((await api("DELETE", `/v1/stations/${station}`)).status).toBe(200);
    expect(await segmentKeys(station)).toEqual([]);
  });
});
