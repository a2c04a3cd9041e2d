// Moving a group (`POST …/groups/{group}/seek`): to earliest, latest, an offset or a time, with
// leases in flight. Below the new position counts as acked, from it on as never handed out;
// leases in flight are dropped, and their late acks count for nothing; untilAcked follows the
// new ack floor; bad targets are refused with codes.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, createStation, produce } from "./helpers";
import { ack, createGroups, groupInfo, nack, offsetsOf, pass, stationInfo, stationWith, take } from "./groups-helpers";
import { signToken } from "./token-helpers";

/**
 * The browser SDK's consumer loop and transport, run here against the worker. Loaded by a path
 * tsc does not follow: client/ is typed for the browser (DOM lib), this project for workerd.
 */
async function browserConsumerModules(): Promise<{ runConsumer: any; Transport: any }> {
  const client = "../../client";
  const [loop, transport] = await Promise.all([import(`${client}/consumer-loop.ts`), import(`${client}/transport.ts`)]);
  return { runConsumer: loop.runConsumer, Transport: transport.Transport };
}

const seek = (station: string, group: string, to: unknown) => api("POST", `/v1/stations/${station}/groups/${group}/seek`, { to });

async function seekOk(station: string, group: string, to: unknown) {
  const res = await seek(station, group, to);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe("seek with leases in flight", () => {
  it("to earliest: everything is handed out again; the dropped leases' late acks count for nothing", async () => {
    const station = await stationWith(5);
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "a", 3))).toEqual([1, 2, 3]);
    expect((await ack(station, "g", [1])).body.acked).toBe(1);
    const moved = await seekOk(station, "g", "earliest");
    expect(moved).toMatchObject({ name: "g", ackFloor: 0, pending: 0, lag: 5, nextOffset: 1, epoch: 1, dropped: 2, redeliveries: 0 });
    // The consumer that held 2 and 3 acks late: nothing is acked, nothing leaves the group.
    expect((await ack(station, "g", [2, 3])).body.acked).toBe(0);
    const again = await take(station, "g", "b", 10);
    expect(offsetsOf(again)).toEqual([1, 2, 3, 4, 5]);
    expect(again.every((m) => m.deliveries === 1 && m.epoch === 1)).toBe(true);
  });

  it("a late ack naming the old epoch counts for nothing even after the message went out again", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    const old = await take(station, "g", "a", 3);
    expect(old.every((m) => !("epoch" in m))).toBe(true); // epoch 0: not written
    await seekOk(station, "g", "earliest");
    const fresh = await take(station, "g", "b", 3);
    expect(offsetsOf(fresh)).toEqual([1, 2, 3]);
    const late = await api("POST", `/v1/stations/${station}/groups/g/ack`, { offsets: [1, 2, 3], epoch: 0 });
    expect(late.body.acked).toBe(0);
    const lateNack = await api("POST", `/v1/stations/${station}/groups/g/nack`, { offsets: [1], epoch: 0 });
    expect(lateNack.body.nacked).toBe(0);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 3, ackFloor: 0 });
    const current = await api("POST", `/v1/stations/${station}/groups/g/ack`, { offsets: [1, 2, 3], epoch: 1 });
    expect(current.body.acked).toBe(3);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 0, ackFloor: 3, lag: 0 });
  });

  it("a late extend or dead-letter naming the old epoch changes nothing once the message went out again", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "a", 3);
    await seekOk(station, "g", "earliest");
    // The same consumer leases them again, so only the epoch tells the old leases from the new.
    const fresh = await take(station, "g", "a", 3);
    expect(offsetsOf(fresh)).toEqual([1, 2, 3]);
    const lateExtend = await api("POST", `/v1/stations/${station}/groups/g/extend`, { consumer: "a", offsets: [1, 2, 3], epoch: 0 });
    expect(lateExtend.status).toBe(200);
    expect(lateExtend.body).toEqual({ extended: 0, leaseUntil: 0 });
    const lateDead = await api("POST", `/v1/stations/${station}/groups/g/dead-letter`, { offsets: [1, 2], reason: "bad", epoch: 0 });
    expect(lateDead.status).toBe(200);
    expect(lateDead.body.deadLettered).toBe(0);
    const dls = await api("GET", `/v1/stations/${station}/dls`);
    expect(dls.status).toBe(200);
    expect(dls.body.deadLetters).toEqual([]);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 3 });
    // Naming the current epoch, both act.
    const extend = await api("POST", `/v1/stations/${station}/groups/g/extend`, { consumer: "a", offsets: [1, 2, 3], epoch: 1 });
    expect(extend.body.extended).toBe(3);
    const dead = await api("POST", `/v1/stations/${station}/groups/g/dead-letter`, { offsets: [1], reason: "bad", epoch: 1 });
    expect(dead.body.deadLettered).toBe(1);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 2 });
  });

  it("the browser SDK's consumer acks late after a seek: its acks name the old epoch and settle nothing", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    const { runConsumer, Transport } = await browserConsumerModules();
    const workerFetch = ((input: RequestInfo | URL, init?: RequestInit) => (exports as any).default.fetch(new Request(input, init))) as typeof fetch;
    const base = "https://waystation.test";
    const transport = new Transport({ url: base, token: ADMIN_TOKEN, fetch: workerFetch, requestTimeoutMs: 10_000 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const consumer = runConsumer(
      transport,
      base,
      station,
      "g",
      async (m: { offset: number }) => {
        seen.push(m.offset);
        if (m.offset === 1) await held; // still working when the group is moved
      },
      { transport: "poll", consumer: "web", max: 3, waitMs: 200 },
      () => {},
    );
    for (let i = 0; i < 200 && seen.length === 0; i++) await pass(10);
    expect(seen).toEqual([1]);
    await seekOk(station, "g", "earliest");
    // Another consumer has all three again, in epoch 1, before the browser consumer's acks arrive.
    expect(offsetsOf(await take(station, "g", "b", 3))).toEqual([1, 2, 3]);
    release();
    for (let i = 0; i < 200 && seen.length < 3; i++) await pass(10);
    await pass(200); // its acks went out after the handler ran
    await consumer.stop();
    expect(seen).toEqual([1, 2, 3]);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 3, ackFloor: 0 });
    expect((await ack(station, "g", [1, 2, 3])).body.acked).toBe(3);
  });

  it("to latest: everything stored counts as acked; only new messages are handed out", async () => {
    const station = await stationWith(4);
    await createGroups(station, ["g"]);
    await take(station, "g", "a", 2);
    const moved = await seekOk(station, "g", "latest");
    expect(moved).toMatchObject({ ackFloor: 4, pending: 0, lag: 0, nextOffset: 5, dropped: 2 });
    expect((await ack(station, "g", [1, 2])).body.acked).toBe(0);
    expect(await take(station, "g", "a")).toEqual([]);
    await produce(station, { messages: [{ body: "new" }] });
    expect(offsetsOf(await take(station, "g", "a"))).toEqual([5]);
  });

  it("to an offset: below it acked, from it on never handed out; redeliveries waiting are dropped", async () => {
    const station = await stationWith(6);
    await createGroups(station, ["g"]);
    await take(station, "g", "a", 6);
    expect((await nack(station, "g", [5, 6], 60_000)).body.nacked).toBe(2);
    expect((await groupInfo(station, "g")).redeliveries).toBe(2);
    const moved = await seekOk(station, "g", { offset: 3 });
    expect(moved).toMatchObject({ ackFloor: 2, pending: 0, lag: 4, nextOffset: 3, redeliveries: 0, dropped: 4 });
    expect(offsetsOf(await take(station, "g", "b", 10))).toEqual([3, 4, 5, 6]);
    // Forward past leases in flight: the skipped ones count as acked.
    const forward = await seekOk(station, "g", { offset: 6 });
    expect(forward).toMatchObject({ ackFloor: 5, pending: 0, lag: 1, dropped: 4 });
    expect(offsetsOf(await take(station, "g", "b"))).toEqual([6]);
    // Up to the end of the log is allowed (the same as latest).
    expect(await seekOk(station, "g", { offset: 7 })).toMatchObject({ ackFloor: 6, lag: 0 });
  });

  it("to a time: the first message produced at or after it, so the rest is replayed", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await pass(20);
    const since = Date.now();
    await pass(5);
    await produce(station, { messages: [{ body: "x" }, { body: "y" }] });
    expect(offsetsOf(await take(station, "g", "a", 10))).toEqual([1, 2, 3, 4, 5]);
    const moved = await seekOk(station, "g", { time: since });
    expect(moved).toMatchObject({ ackFloor: 3, nextOffset: 4, lag: 2, pending: 0, dropped: 5 });
    const replayed = await take(station, "g", "a", 10);
    expect(offsetsOf(replayed)).toEqual([4, 5]);
    expect(replayed.every((m) => m.producedAt >= since)).toBe(true);
    // A time before everything: from the head; a time after everything: the end.
    expect(await seekOk(station, "g", { time: 0 })).toMatchObject({ nextOffset: 1, lag: 5 });
    expect(await seekOk(station, "g", { time: Date.now() + 60_000 })).toMatchObject({ nextOffset: 6, lag: 0, ackFloor: 5 });
  });

  it("lands on the log's head when the offset was trimmed by retention", async () => {
    const station = await stationWith(5, { retention: { maxMessages: 2 } });
    await pass(50);
    await createGroups(station, ["g"]);
    const info = await stationInfo(station);
    const head = info.stats.firstOffset;
    expect(head).toBeGreaterThan(1);
    expect(await seekOk(station, "g", { offset: 1 })).toMatchObject({ nextOffset: head, ackFloor: head - 1 });
  });

  it("with retention.untilAcked, the new ack floor frees the log; a seek back keeps what is left", async () => {
    const station = await stationWith(5, { retention: { untilAcked: true } });
    await createGroups(station, ["g"]);
    await take(station, "g", "a", 2);
    await seekOk(station, "g", { offset: 4 });
    expect((await stationInfo(station)).stats).toMatchObject({ firstOffset: 4, messages: 2 });
    expect(await seekOk(station, "g", "earliest")).toMatchObject({ nextOffset: 4, lag: 2 });
    expect(offsetsOf(await take(station, "g", "a", 10))).toEqual([4, 5]);
  });

  it("passes over delayed messages again after a seek, and hands them out when their time comes", async () => {
    const station = await createStation();
    await createGroups(station, ["g"]);
    await produce(station, { messages: [{ body: "late", delayMs: 500 }, { body: "b" }] });
    expect(offsetsOf(await take(station, "g", "a"))).toEqual([2]);
    expect(await seekOk(station, "g", "earliest")).toMatchObject({ lag: 2, delayed: 0, dropped: 1 });
    expect(offsetsOf(await take(station, "g", "a"))).toEqual([2]);
    expect(await groupInfo(station, "g")).toMatchObject({ delayed: 1, lag: 1 });
    expect(offsetsOf(await take(station, "g", "a", 10, 10_000))).toEqual([1]);
  });
});

describe("seek refusals", () => {
  it("refuses bad targets with invalid_request and unknown groups or stations with their codes, changing nothing", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "a", 2);
    for (const to of ["middle", { offset: 0 }, { offset: -1 }, { offset: 1.5 }, { time: -5 }, { time: "yesterday" }, { offset: 1, time: 1 }, null, 3]) {
      const res = await seek(station, "g", to);
      expect(res.status, JSON.stringify(to)).toBe(422);
      expect(res.body.error.code).toBe("invalid_request");
    }
    const past = await seek(station, "g", { offset: 5 });
    expect(past.status).toBe(422);
    expect(past.body.error).toMatchObject({ code: "invalid_request", lastOffset: 3 });
    expect((await api("POST", `/v1/stations/${station}/groups/g/seek`, {})).status).toBe(422);
    expect((await seek(station, "nope", "earliest")).body.error.code).toBe("group_not_found");
    expect((await seek(`${station}-missing`, "g", "earliest")).body.error.code).toBe("station_not_found");
    // Nothing changed: both leases still count.
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 2, epoch: 0, nextOffset: 3 });
    expect((await ack(station, "g", [1, 2])).body.acked).toBe(2);
  });
});

describe("seek rights", () => {
  it("takes the consume right on the group, or manage; produce only, or another group, is 403 forbidden", async () => {
    const station = await stationWith(2);
    await createGroups(station, ["g", "other"]);
    const path = `/v1/stations/${station}/groups/g/seek`;
    const tokenFor = (actions: string[], groups?: string[]) => signToken({ grants: [{ stations: [station], actions, ...(groups ? { groups } : {}) }] as any });
    const consumer = await tokenFor(["consume"], ["g"]);
    expect((await api("POST", path, { to: "latest" }, { token: consumer })).status).toBe(200);
    const manager = await tokenFor(["manage"]);
    expect((await api("POST", path, { to: "earliest" }, { token: manager })).status).toBe(200);
    for (const token of [await tokenFor(["produce"]), await tokenFor(["consume"], ["other"])]) {
      const res = await api("POST", path, { to: "latest" }, { token });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect(await groupInfo(station, "g")).toMatchObject({ epoch: 2, nextOffset: 1 });
  });
});
