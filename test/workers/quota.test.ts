// Storage quota: a produce that would take a station's log past its quota is refused whole with
// 507 `quota_exceeded`; nothing stored is lost, resent duplicates are still answered, and the
// worker's ceiling (STATION_MAX_STORAGE_BYTES) caps what a station's config may ask for.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultStationConfig } from "../../shared/config";
import type { Env } from "../../worker/env";
import { StationAdmission } from "../../worker/station/log";
import { stationStub } from "../../worker/stubs";
import { api, createStation, produce, seqBatch } from "./helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

/** Each message `{"n":1}` body is 7 bytes; a 20-byte body makes the sizes easy to count. */
const body = (seq: number) => ({ pad: "x".repeat(10), seq: seq % 10 });

async function snapshot(station: string) {
  const info = await api("GET", `/v1/stations/${station}`);
  const log = await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`);
  return { stats: info.body.stats, messages: log.body.messages };
}

describe("storage quota", () => {
  it("refuses a batch that would go over the quota, whole, and loses nothing stored", async () => {
    const station = await createStation({ maxStorageBytes: 200 });
    const first = await produce(station, { producer: "p", messages: seqBatch(1, 5, body) });
    expect(first.status).toBe(200);
    const before = await snapshot(station);
    expect(before.stats.bytes).toBeGreaterThan(100);

    const res = await produce(station, { producer: "p", messages: seqBatch(6, 5, body) });
    expect(res.status).toBe(507);
    expect(res.body.error).toMatchObject({ code: "quota_exceeded", quotaBytes: 200, storedBytes: before.stats.storedBytes });
    expect(await snapshot(station)).toEqual(before);

    // The refused seqs were not recorded: the producer resumes at 6 once there is room.
    const gap = await produce(station, { producer: "p", messages: seqBatch(7, 1, body) });
    expect(gap.body.error.code).toBe("seq_gap");
    expect(gap.body.error.expectedSeq).toBe(6);
  });

  it("still answers a resent batch with its original offsets when the station is full", async () => {
    const station = await createStation({ maxStorageBytes: 200 });
    const batch = { producer: "p", messages: seqBatch(1, 5, body) };
    const first = await produce(station, batch);
    expect((await produce(station, { producer: "p", messages: seqBatch(6, 5, body) })).status).toBe(507);
    const again = await produce(station, batch);
    expect(again.status).toBe(200);
    expect(again.body.results.map((r: { offset: number }) => r.offset)).toEqual(first.body.results.map((r: { offset: number }) => r.offset));
    expect(again.body.results.every((r: { duplicate: boolean }) => r.duplicate)).toBe(true);
  });

  it("takes a smaller batch that still fits", async () => {
    const station = await createStation({ maxStorageBytes: 200 });
    await produce(station, { messages: seqBatch(1, 5, body).map(({ body }) => ({ body })) });
    expect((await produce(station, { messages: seqBatch(1, 5, body).map(({ body }) => ({ body })) })).status).toBe(507);
    expect((await produce(station, { messages: [{ body: 1 }] })).status).toBe(200);
  });

  it("takes messages again once retention frees room", async () => {
    const station = await createStation({ maxStorageBytes: 200 });
    await produce(station, { messages: seqBatch(1, 5, body).map(({ body }) => ({ body })) });
    expect((await produce(station, { messages: seqBatch(1, 5, body).map(({ body }) => ({ body })) })).status).toBe(507);
    expect((await api("PUT", `/v1/stations/${station}`, { maxStorageBytes: 200, retention: { maxMessages: 1 } })).status).toBe(200);
    await runDurableObjectAlarm(stationStub(env as unknown as Env, station));
    expect((await snapshot(station)).stats.messages).toBe(1);
    expect((await produce(station, { messages: seqBatch(1, 5, body).map(({ body }) => ({ body })) })).status).toBe(200);
  });

  it("applies the worker's ceiling over a station's own quota", () => {
    const admission = new StationAdmission({ STATION_MAX_STORAGE_BYTES: "1000" });
    expect(admission.quotaBytes({ ...defaultStationConfig(), maxStorageBytes: 500 })).toBe(500);
    expect(admission.quotaBytes({ ...defaultStationConfig(), maxStorageBytes: 5000 })).toBe(1000);
    expect(admission.quotaBytes(defaultStationConfig())).toBe(1000);
    expect(new StationAdmission({}).quotaBytes(defaultStationConfig())).toBe(1024 * 1024 * 1024);
    expect(new StationAdmission({ STATION_MAX_STORAGE_BYTES: "lots" }).quotaBytes(defaultStationConfig())).toBe(1024 * 1024 * 1024);
  });

  it("refuses a quota that is not a positive integer", async () => {
    for (const maxStorageBytes of [0, -1, 1.5, "100", 1e20]) {
      const res = await api("PUT", "/v1/stations/quota-bad", { maxStorageBytes });
      expect(res.status, String(maxStorageBytes)).toBe(422);
    }
  });
});
