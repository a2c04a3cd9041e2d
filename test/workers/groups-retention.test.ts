// Groups and the log's life: state surviving an object restart mid-lease, `untilAcked`
// deleting what every group acked, and groups skipping messages retention trimmed first.
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, produce } from "./helpers";
import {
  ack,
  deadLetters,
  fireAlarm,
  groupInfo,
  nack,
  offsetsOf,
  pass,
  produceN,
  stationInfo,
  stationStub,
  stationWith,
  take,
  createGroups,
} from "./groups-helpers";

async function readLog(station: string): Promise<number[]> {
  const res = await api("GET", `/v1/stations/${station}/messages?limit=1000`);
  return offsetsOf(res.body.messages);
}

describe("restart", () => {
  it("keeps leases, cursor and deliveries across an object restart mid-lease", async () => {
    const station = await stationWith(3, { ackTimeoutMs: 300 });
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "a", 2))).toEqual([1, 2]);
    await evictDurableObject(stationStub(station));
    // Still leased after the restart: nobody else gets 1 or 2.
    expect(offsetsOf(await take(station, "g", "b", 10))).toEqual([3]);
    expect((await ack(station, "g", [1])).body).toEqual({ acked: 1 });
    await evictDurableObject(stationStub(station));
    await pass(350);
    await fireAlarm(station);
    const again = await take(station, "g", "b", 10);
    expect(again.map((m) => [m.offset, m.deliveries])).toEqual([
      [2, 2],
      [3, 2],
    ]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 1, pending: 2, lag: 0, delivered: 5, acked: 1 });
  });

  it("redelivers after a restart even if nothing but the alarm wakes the object", async () => {
    const station = await stationWith(1, { ackTimeoutMs: 100 });
    await createGroups(station, ["g"]);
    await take(station, "g", "a");
    await evictDurableObject(stationStub(station));
    await pass(150);
    await fireAlarm(station);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 0, redeliveries: 1 });
  });
});

describe("retention.untilAcked", () => {
  it("deletes a message once every group has acked it", async () => {
    const station = await stationWith(0, { retention: { untilAcked: true } });
    await api("PUT", `/v1/stations/${station}/groups/a`, {});
    await api("PUT", `/v1/stations/${station}/groups/b`, {});
    await produceN(station, 4);
    await take(station, "a", "c", 4);
    await take(station, "b", "c", 4);
    await ack(station, "a", [1, 2, 3]);
    expect(await readLog(station)).toEqual([1, 2, 3, 4]);
    await ack(station, "b", [1, 2]);
    expect(await readLog(station)).toEqual([3, 4]);
    const info = await stationInfo(station);
    expect(info.stats).toMatchObject({ firstOffset: 3, lastOffset: 4, messages: 2 });
    // Offsets are never reused after the deletion.
    const res = await produce(station, { messages: [{ body: "next" }] });
    expect(res.body.results[0].offset).toBe(5);
  });

  it("keeps messages while no group exists yet", async () => {
    const station = await stationWith(3, { retention: { untilAcked: true } });
    await fireAlarm(station);
    expect(await readLog(station)).toEqual([1, 2, 3]);
  });

  it("counts a dead-lettered message as done for its group, and resend still delivers it", async () => {
    const station = await stationWith(2, { retention: { untilAcked: true }, maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    await take(station, "g", "c", 1);
    await nack(station, "g", [1]);
    await take(station, "g", "c", 1);
    await ack(station, "g", [2]);
    expect(await readLog(station)).toEqual([]);
    const [letter] = await deadLetters(station);
    await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [letter.id] });
    const again = await take(station, "g", "c", 10);
    expect(again.map((m) => [m.offset, m.body, m.deliveries])).toEqual([[1, { n: 1 }, 1]]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 0, pending: 1 });
    await ack(station, "g", [1]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 2, pending: 0 });
  });
});

describe("retention trims what a group has not read", () => {
  it("skips trimmed messages: the ack floor moves up and leases on them end", async () => {
    const station = await stationWith(5, { retention: { maxMessages: 10 } });
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "c", 2))).toEqual([1, 2]);
    await produceN(station, 10, 6);
    await fireAlarm(station);
    expect((await stationInfo(station)).stats.firstOffset).toBe(6);
    const info = await groupInfo(station, "g");
    expect(info).toMatchObject({ ackFloor: 5, pending: 0, lag: 10 });
    expect(offsetsOf(await take(station, "g", "c", 3))).toEqual([6, 7, 8]);
    expect((await ack(station, "g", [1, 2])).body).toEqual({ acked: 0 });
    expect((await groupInfo(station, "g")).skipped).toBe(5);
  });

  it("keeps the trimmed head and the groups' place across a restart", async () => {
    const station = await stationWith(0, { retention: { maxMessages: 2 } });
    await api("PUT", `/v1/stations/${station}/groups/g`, {});
    await produceN(station, 5);
    await fireAlarm(station);
    const before = (await stationInfo(station)).stats;
    expect(before).toMatchObject({ firstOffset: 4, messages: 2 });
    await evictDurableObject(stationStub(station));
    expect((await stationInfo(station)).stats).toEqual(before);
    expect(offsetsOf(await take(station, "g", "c", 10))).toEqual([4, 5]);
    expect(await groupInfo(station, "g")).toMatchObject({ skipped: 3, ackFloor: 3 });
  });
});
