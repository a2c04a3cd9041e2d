// Consumer groups over HTTP: leases, exclusivity, acks, nacks, redelivery by the alarm,
// deliveries counting, independent groups and start positions. The rule under test: at least once
// to every group, in offset order as handed out; a delivery not acked within ackTimeoutMs is handed
// out again with deliveries + 1, after maxDeliveries it goes to the DLS (docs/consumer-groups.md,
// "Lifecycle of a delivery").
import { describe, expect, it } from "vitest";
import { api, produce } from "./helpers";
import {
  ack,
  fetchGroup,
  fireAlarm,
  groupInfo,
  nack,
  offsetsOf,
  pass,
  produceN,
  stationInfo,
  stationWith,
  take,
  createGroups,
} from "./groups-helpers";

describe("fetch", () => {
  it("leases messages in offset order with the Message shape and deliveries = 1", async () => {
    const station = await stationWith(5);
    await createGroups(station, ["workers"]);
    const res = await fetchGroup(station, "workers", { consumer: "c1", max: 3, waitMs: 0 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.body.messages).toHaveLength(3);
    expect(res.body.messages[0]).toEqual({
      partition: 0,
      offset: 1,
      producer: null,
      seq: null,
      id: null,
      key: null,
      headers: {},
      body: { n: 1 },
      producedAt: expect.any(Number),
      deliveries: 1,
    });
    expect(offsetsOf(res.body.messages)).toEqual([1, 2, 3]);
  });

  it("keeps producer, seq, key and headers of the stored message", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    await produce(station, { producer: "p1", messages: [{ seq: 1, body: [1, "two"], key: "k", headers: { "x-a": "b" } }] });
    const [message] = await take(station, "g", "c");
    expect(message).toMatchObject({ offset: 1, producer: "p1", seq: 1, key: "k", headers: { "x-a": "b" }, body: [1, "two"] });
  });

  it("never hands a leased message to another consumer of the group while its lease runs", async () => {
    const station = await stationWith(10);
    await createGroups(station, ["g"]);
    const first = await take(station, "g", "alice", 6);
    const second = await take(station, "g", "bob", 6);
    expect(offsetsOf(first)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(offsetsOf(second)).toEqual([7, 8, 9, 10]);
    expect(await take(station, "g", "carol", 10)).toEqual([]);
    expect(await take(station, "g", "alice", 10)).toEqual([]);
  });

  it("never loses a group's place", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 2);
    await ack(station, "g", [1, 2]);
    const info = await groupInfo(station, "g");
    expect(info).toMatchObject({ name: "g", ackFloor: 2, pending: 0, lag: 1, nextOffset: 3, delivered: 2, acked: 2 });
    expect(offsetsOf(await take(station, "g", "c"))).toEqual([3]);
  });

  it("acks the previous batch in the fetch that leases the next (one round trip)", async () => {
    const station = await stationWith(5);
    await createGroups(station, ["g"]);
    const first = await fetchGroup(station, "g", { consumer: "c", max: 2 });
    expect(first.body.acked).toBeUndefined();
    const second = await fetchGroup(station, "g", { consumer: "c", max: 2, ack: offsetsOf(first.body.messages) });
    expect(second.body).toMatchObject({ acked: 2 });
    expect(offsetsOf(second.body.messages)).toEqual([3, 4]);
    const last = await fetchGroup(station, "g", { consumer: "c", max: 2, ack: [3, 4, 3] });
    expect(last.body.acked).toBe(2);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 4, pending: 1, acked: 4 });
    const bad = await fetchGroup(station, "g", { consumer: "c", ack: [0] });
    expect(bad.status).toBe(422);
  });

  it("answers at once with no messages when waitMs is 0", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    expect(await take(station, "g", "c", 10, 0)).toEqual([]);
  });

  it("takes an empty body as defaults (consumer anonymous, max 10, no wait)", async () => {
    const station = await stationWith(12);
    await createGroups(station, ["g"]);
    const res = await api("POST", `/v1/stations/${station}/groups/g/fetch`);
    expect(res.status).toBe(200);
    expect(res.body.messages).toHaveLength(10);
  });
});

describe("ack", () => {
  it("acks once: a repeated ack changes nothing and answers acked 0", async () => {
    const station = await stationWith(3, { ackTimeoutMs: 100 });
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 3);
    expect((await ack(station, "g", [1, 2])).body).toEqual({ acked: 2 });
    expect((await ack(station, "g", [1, 2, 2])).body).toEqual({ acked: 0 });
    expect((await ack(station, "g", [3, 3])).body).toEqual({ acked: 1 });
    await pass(150);
    await fireAlarm(station);
    expect(await take(station, "g", "c", 10)).toEqual([]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 3, pending: 0, lag: 0, redeliveries: 0 });
  });

  it("ignores offsets the group never handed out", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 1);
    expect((await ack(station, "g", [2, 3, 99])).body).toEqual({ acked: 0 });
    expect(offsetsOf(await take(station, "g", "c", 10))).toEqual([2, 3]);
  });

  it("answers 404 group_not_found to an ack for a group that does not exist, without creating it", async () => {
    const station = await stationWith(1);
    const res = await ack(station, "ghost", [1]);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: "group_not_found", group: "ghost" });
    expect((await api("GET", `/v1/stations/${station}/groups/ghost`)).status).toBe(404);
  });

  it("moves the ack floor only over a gapless prefix", async () => {
    const station = await stationWith(5);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 5);
    await ack(station, "g", [1, 2, 4]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 2, pending: 2 });
    await ack(station, "g", [3]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 4, pending: 1 });
  });
});

describe("redelivery", () => {
  it("redelivers after ackTimeoutMs when not acked, with deliveries + 1", async () => {
    const station = await stationWith(2, { ackTimeoutMs: 100 });
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "alice", 2))).toEqual([1, 2]);
    await ack(station, "g", [2]);
    await pass(150);
    await fireAlarm(station); // the runtime may have run it already: alarms come by themselves too
    const again = await take(station, "g", "bob", 10);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ offset: 1, deliveries: 2 });
  });

  it("counts every hand-out in deliveries", async () => {
    const station = await stationWith(1, { ackTimeoutMs: 100, maxDeliveries: 10 });
    await createGroups(station, ["g"]);
    for (let round = 1; round <= 4; round++) {
      const [message] = await take(station, "g", `c${round}`);
      expect(message.deliveries).toBe(round);
      await pass(120);
      await fireAlarm(station);
    }
  });

  it("honours a group's own ackTimeoutMs over the station's", async () => {
    const station = await stationWith(1, { ackTimeoutMs: 60_000 });
    await createGroups(station, ["slow"]);
    expect((await api("PUT", `/v1/stations/${station}/groups/fast`, { ackTimeoutMs: 100 })).status).toBe(201);
    await take(station, "fast", "c");
    await take(station, "slow", "c");
    await pass(150);
    await fireAlarm(station);
    expect(offsetsOf(await take(station, "fast", "c"))).toEqual([1]);
    expect(await take(station, "slow", "c")).toEqual([]);
  });
});

describe("nack", () => {
  it("hands a nacked message out again at once with delayMs 0", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 3);
    expect((await nack(station, "g", [2])).body).toEqual({ nacked: 1 });
    const again = await take(station, "g", "d", 10);
    expect(again.map((m) => [m.offset, m.deliveries])).toEqual([[2, 2]]);
  });

  it("holds a nacked message back for delayMs, then hands it out again", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    await take(station, "g", "c");
    expect((await nack(station, "g", [1], 200)).body).toEqual({ nacked: 1 });
    expect(await take(station, "g", "c")).toEqual([]);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 0, redeliveries: 1 });
    await pass(250);
    await fireAlarm(station);
    expect((await take(station, "g", "c"))[0]).toMatchObject({ offset: 1, deliveries: 2 });
  });

  it("nacks only leased messages", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 1);
    await ack(station, "g", [1]);
    expect((await nack(station, "g", [1, 2, 3])).body).toEqual({ nacked: 0 });
  });
});

describe("groups", () => {
  it("keeps two groups independent: each gets every message", async () => {
    const station = await stationWith(4);
    await createGroups(station, ["billing", "audit"]);
    expect(offsetsOf(await take(station, "billing", "b", 10))).toEqual([1, 2, 3, 4]);
    expect(offsetsOf(await take(station, "audit", "a", 2))).toEqual([1, 2]);
    await ack(station, "billing", [1, 2, 3, 4]);
    expect(offsetsOf(await take(station, "audit", "a", 10))).toEqual([3, 4]);
    const info = await stationInfo(station);
    const byName = Object.fromEntries(info.groups.map((g: any) => [g.name, g]));
    expect(byName.billing).toMatchObject({ ackFloor: 4, pending: 0, lag: 0, deadLetters: 0 });
    expect(byName.audit).toMatchObject({ ackFloor: 0, pending: 4, lag: 0, deadLetters: 0 });
  });

  it("shows ackFloor, pending and lag on the station", async () => {
    const station = await stationWith(10);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 4);
    await ack(station, "g", [1, 2]);
    const info = await stationInfo(station);
    expect(info.groups).toEqual([expect.objectContaining({ name: "g", ackFloor: 2, pending: 2, lag: 6, deadLetters: 0 })]);
    expect(info.stats.deadLetters).toBe(0);
  });

  it("starts where it is told: earliest, latest, an offset, or the last N", async () => {
    const station = await stationWith(10);
    const put = (group: string, start: unknown) => api("PUT", `/v1/stations/${station}/groups/${group}`, { start });
    expect((await put("latest", "latest")).status).toBe(201);
    expect((await put("from7", { offset: 7 })).status).toBe(201);
    expect((await put("last2", { last: 2 })).status).toBe(201);
    expect((await put("earliest", "earliest")).status).toBe(201);
    await produceN(station, 1, 11);
    expect(offsetsOf(await take(station, "latest", "c", 100))).toEqual([11]);
    expect(offsetsOf(await take(station, "from7", "c", 100))).toEqual([7, 8, 9, 10, 11]);
    expect(offsetsOf(await take(station, "last2", "c", 100))).toEqual([9, 10, 11]);
    expect(offsetsOf(await take(station, "earliest", "c", 100))).toHaveLength(11);
    expect((await groupInfo(station, "latest")).start).toBe("latest");
  });

  it("refuses to move an existing group's start, and accepts the same PUT again", async () => {
    const station = await stationWith(3);
    expect((await api("PUT", `/v1/stations/${station}/groups/g`, { start: "latest" })).status).toBe(201);
    expect((await api("PUT", `/v1/stations/${station}/groups/g`, { start: "latest", maxDeliveries: 3 })).status).toBe(200);
    const moved = await api("PUT", `/v1/stations/${station}/groups/g`, { start: "earliest" });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe("group_start_fixed");
    expect(await groupInfo(station, "g")).toMatchObject({ maxDeliveries: 3, overrides: { maxDeliveries: 3, ackTimeoutMs: null } });
  });

  it("deletes a group on request only; a new one of that name starts over", async () => {
    const station = await stationWith(2);
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 2);
    await ack(station, "g", [1, 2]);
    expect((await api("DELETE", `/v1/stations/${station}/groups/g`)).body).toEqual({ name: "g", deleted: true });
    expect((await api("DELETE", `/v1/stations/${station}/groups/g`)).status).toBe(404);
    expect((await fetchGroup(station, "g", { consumer: "c" })).status).toBe(404);
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "c", 10))).toEqual([1, 2]);
  });
});
