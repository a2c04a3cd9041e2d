// Long-poll: a fetch with waitMs and nothing to hand out waits in the object (no polling loop)
// and is answered as soon as something arrives — produce, nack, redelivery — or empty when its
// time is up. Also the input bounds of fetch, ack and nack.
import { describe, expect, it } from "vitest";
import { api, createStation, produce } from "./helpers";
import { ack, fetchGroup, nack, offsetsOf, pass, stationWith, take, createGroups } from "./groups-helpers";

describe("long-poll", () => {
  it("wakes a waiting fetch as soon as a message is produced", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    const started = Date.now();
    const waiting = fetchGroup(station, "g", { consumer: "c", max: 5, waitMs: 20_000 });
    await pass(50);
    await produce(station, { messages: [{ body: "hello" }, { body: "world" }] });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: any) => [m.offset, m.body, m.deliveries])).toEqual([
      [1, "hello", 1],
      [2, "world", 1],
    ]);
    // Woken by the produce, not by the 20 s timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("answers empty when waitMs runs out with nothing produced", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    const started = Date.now();
    expect(await take(station, "g", "c", 5, 200)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it("serves waiters first come, first served, each message to one of them", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    const first = fetchGroup(station, "g", { consumer: "a", max: 2, waitMs: 20_000 });
    await pass(20);
    const second = fetchGroup(station, "g", { consumer: "b", max: 2, waitMs: 20_000 });
    await pass(20);
    await produce(station, { messages: [1, 2, 3].map((n) => ({ body: n })) });
    const [a, b] = await Promise.all([first, second]);
    expect(offsetsOf(a.body.messages)).toEqual([1, 2]);
    expect(offsetsOf(b.body.messages)).toEqual([3]);
  });

  it("wakes a waiter when another consumer nacks", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    await take(station, "g", "a");
    const waiting = fetchGroup(station, "g", { consumer: "b", max: 1, waitMs: 20_000 });
    await pass(20);
    await nack(station, "g", [1]);
    const res = await waiting;
    expect(res.body.messages.map((m: any) => [m.offset, m.deliveries])).toEqual([[1, 2]]);
  });

  it("wakes a waiter when a lease runs out (the alarm)", async () => {
    const station = await stationWith(1, { ackTimeoutMs: 150 });
    await createGroups(station, ["g"]);
    await take(station, "g", "a");
    const res = await fetchGroup(station, "g", { consumer: "b", max: 1, waitMs: 10_000 });
    expect(res.body.messages.map((m: any) => [m.offset, m.deliveries])).toEqual([[1, 2]]);
  });

  it("does not wake waiters of another group's station", async () => {
    const quiet = await stationWith(0);
    await createGroups(quiet, ["g"]);
    const busy = await stationWith(0);
    const waiting = fetchGroup(quiet, "g", { consumer: "c", max: 1, waitMs: 300 });
    await produce(busy, { messages: [{ body: 1 }] });
    expect((await waiting).body.messages).toEqual([]);
  });
});

describe("input bounds", () => {
  it("refuses bad fetch, ack and nack bodies with the error model and changes nothing", async () => {
    const station = await createStation();
    await createGroups(station, ["g"]);
    await produce(station, { messages: [{ body: 1 }] });
    const g = `/v1/stations/${station}/groups/g`;
    const cases: Array<[string, unknown, number, string]> = [
      ["/fetch", { consumer: "c", max: 0 }, 422, "invalid_request"],
      ["/fetch", { consumer: "c", max: 1001 }, 422, "invalid_request"],
      ["/fetch", { consumer: "c", max: 1.5 }, 422, "invalid_request"],
      ["/fetch", { consumer: "c", waitMs: 30_001 }, 422, "invalid_request"],
      ["/fetch", { consumer: "c", waitMs: -1 }, 422, "invalid_request"],
      ["/fetch", { consumer: "bad consumer!" }, 422, "invalid_request"],
      ["/fetch", { consumer: "c", colour: "red" }, 422, "invalid_request"],
      ["/fetch", [1, 2], 422, "invalid_request"],
      ["/ack", { offsets: [] }, 422, "invalid_request"],
      ["/ack", { offsets: [0] }, 422, "invalid_request"],
      ["/ack", { offsets: [-3] }, 422, "invalid_request"],
      ["/ack", { offsets: [1.5] }, 422, "invalid_request"],
      ["/ack", { offsets: ["1"] }, 422, "invalid_request"],
      ["/ack", { offsets: Array.from({ length: 1001 }, (_, i) => i + 1) }, 422, "invalid_request"],
      ["/ack", {}, 422, "invalid_request"],
      ["/nack", { offsets: [1], delayMs: -1 }, 422, "invalid_request"],
      ["/nack", { offsets: [1], delayMs: 86_400_001 }, 422, "invalid_request"],
      ["/nack", { offsets: [9007199254740993] }, 422, "invalid_request"],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await api("POST", `${g}${path}`, body);
      expect([path, JSON.stringify(body).slice(0, 60), res.status, res.body?.error?.code]).toEqual([path, JSON.stringify(body).slice(0, 60), status, code]);
    }
    const notJson = await api("POST", `${g}/ack`, undefined, { raw: "{offsets", headers: { "content-type": "application/json" } });
    expect([notJson.status, notJson.body.error.code]).toEqual([400, "invalid_json"]);
    const badGroup = await api("POST", `/v1/stations/${station}/groups/Bad_Group/fetch`, {});
    expect([badGroup.status, badGroup.body.error.code]).toEqual([400, "invalid_name"]);
    const noStation = await api("POST", `/v1/stations/none-${Date.now()}/groups/g/fetch`, {});
    expect([noStation.status, noStation.body.error.code]).toEqual([404, "station_not_found"]);
    // None of the refusals leased anything.
    expect(offsetsOf(await take(station, "g", "c"))).toEqual([1]);
    expect((await ack(station, "g", [1])).body).toEqual({ acked: 1 });
  });

  it("needs a token", async () => {
    const station = await createStation();
    await createGroups(station, ["g"]);
    const res = await api("POST", `/v1/stations/${station}/groups/g/fetch`, {}, { token: null });
    expect(res.status).toBe(401);
  });
});
