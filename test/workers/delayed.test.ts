// Delayed messages (`delayMs`): stored and numbered at once, shown by replay with `visibleAt`,
// counted in `stats.delayed`, and seen by no group or webhook before their time — then handed
// out, woken by the station's alarm, across a restart; out-of-range delays refused with codes,
// and so is any delay on a doc station (its sockets and reads see every update at once).
import { evictDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { encodeBinaryBody } from "../../shared/binary";
import { MAX_MESSAGE_DELAY_MS } from "../../shared/limits";
import { createDocStation, readDoc, recordingDoc, textOf } from "./docs-helpers";
import { api, createStation, produce } from "./helpers";
import { ack, createGroups, fireAlarm, groupInfo, offsetsOf, pass, stationInfo, stationStub, take } from "./groups-helpers";
import { mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";

vi.setConfig({ testTimeout: 30_000 });

async function read(station: string): Promise<any[]> {
  const res = await api("GET", `/v1/stations/${station}/messages?from=1`);
  expect(res.status).toBe(200);
  return res.body.messages;
}

describe("delayed messages: storing and reading", () => {
  it("stores and numbers a delayed message at once; replay shows it with visibleAt; stats count it", async () => {
    const station = await createStation();
    const res = await produce(station, { messages: [{ body: "later", delayMs: 60_000 }, { body: "now" }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results.map((r: any) => r.offset)).toEqual([1, 2]);
    const [later, now] = await read(station);
    expect(later).toMatchObject({ offset: 1, body: "later" });
    expect(later.visibleAt).toBe(later.producedAt + 60_000);
    expect(now).toMatchObject({ offset: 2, body: "now" });
    expect(now).not.toHaveProperty("visibleAt");
    const info = await stationInfo(station);
    expect(info.stats).toMatchObject({ lastOffset: 2, messages: 2, delayed: 1 });
  });

  it("stops counting a delayed message in stats.delayed once its time has come", async () => {
    const station = await createStation();
    await produce(station, { messages: [{ body: 1, delayMs: 150 }] });
    expect((await stationInfo(station)).stats.delayed).toBe(1);
    await pass(250);
    expect((await stationInfo(station)).stats.delayed).toBe(0);
  });

  it("refuses an out-of-range delayMs from a producer without seq: 422 invalid_request, nothing stored", async () => {
    const station = await createStation();
    for (const delayMs of [-1, MAX_MESSAGE_DELAY_MS + 1, 1.5, "10"]) {
      const res = await produce(station, { messages: [{ body: "ok" }, { body: "bad", delayMs }] });
      expect(res.status, JSON.stringify(delayMs)).toBe(422);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect((await stationInfo(station)).stats.lastOffset).toBe(0);
    const edge = await produce(station, { messages: [{ body: "week", delayMs: MAX_MESSAGE_DELAY_MS }, { body: "zero", delayMs: 0 }] });
    expect(edge.status).toBe(200);
    const [week, zero] = await read(station);
    expect(week.visibleAt).toBe(week.producedAt + MAX_MESSAGE_DELAY_MS);
    expect(zero).not.toHaveProperty("visibleAt");
  });

  it("rules a sequenced message with an out-of-range delayMs refused (invalid_request), its seq consumed, the rest stored", async () => {
    const station = await createStation();
    const batch = { producer: "p1", messages: [{ seq: 1, body: "a" }, { seq: 2, body: "b", delayMs: MAX_MESSAGE_DELAY_MS + 1 }, { seq: 3, body: "c", delayMs: 50 }] };
    const res = await produce(station, batch);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results[0]).toMatchObject({ seq: 1, offset: 1 });
    expect(res.body.results[1]).toMatchObject({ seq: 2, offset: null, refused: { code: "invalid_request" } });
    expect(res.body.results[1].refused.issues[0].path).toBe("delayMs");
    expect(res.body.results[2]).toMatchObject({ seq: 3, offset: 2 });
    const again = await produce(station, batch);
    expect(again.body.results[1]).toMatchObject({ seq: 2, offset: null, duplicate: true, refused: { code: "invalid_request" } });
  });
});

describe("delayed messages: groups", () => {
  it("passes over a delayed message (later ones are not held back) and hands it out when its time comes, woken by the alarm", async () => {
    const station = await createStation();
    await createGroups(station, ["g"]);
    const produced = await produce(station, { messages: [{ body: "late", delayMs: 600 }, { body: "b" }, { body: "c" }] });
    expect(produced.status).toBe(200);
    const first = await take(station, "g", "c1");
    expect(offsetsOf(first)).toEqual([2, 3]);
    expect((await ack(station, "g", [2, 3])).body.acked).toBe(2);
    // An ack of the delayed message before anyone saw it counts for nothing.
    expect((await ack(station, "g", [1])).body.acked).toBe(0);
    const info = await groupInfo(station, "g");
    expect(info).toMatchObject({ ackFloor: 0, pending: 0, lag: 1, delayed: 1, redeliveries: 0 });
    // A long-poll waits; only the alarm at visibleAt can serve it (nothing else is produced).
    const asked = Date.now();
    const waited = await take(station, "g", "c1", 10, 10_000);
    expect(offsetsOf(waited)).toEqual([1]);
    expect(waited[0]).toMatchObject({ body: "late", deliveries: 1 });
    expect(waited[0].visibleAt).toBe(waited[0].producedAt + 600);
    expect(Date.now()).toBeGreaterThanOrEqual(waited[0].visibleAt);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect((await ack(station, "g", [1])).body.acked).toBe(1);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 3, pending: 0, lag: 0, delayed: 0 });
  });

  it("hands out visible messages in offset order around delayed ones, a fetch's max counting only what it hands out", async () => {
    const station = await createStation();
    await createGroups(station, ["g"]);
    const body = (n: number) => (n === 2 || n === 4 ? { body: n, delayMs: 60_000 } : { body: n });
    await produce(station, { messages: [1, 2, 3, 4, 5, 6].map(body) });
    expect(offsetsOf(await take(station, "g", "a", 2))).toEqual([1, 3]);
    expect(await groupInfo(station, "g")).toMatchObject({ nextOffset: 4, delayed: 1, pending: 2, lag: 4 });
    expect(offsetsOf(await take(station, "g", "a", 10))).toEqual([5, 6]);
    expect(await groupInfo(station, "g")).toMatchObject({ nextOffset: 7, delayed: 2, pending: 4, lag: 2, ackFloor: 0 });
    expect(await take(station, "g", "a", 10)).toEqual([]);
  });

  it("keeps a delayed message hidden across a restart of the object, then delivers it by the alarm", async () => {
    const station = await createStation();
    await createGroups(station, ["g"]);
    await produce(station, { messages: [{ body: "after-restart", delayMs: 800 }] });
    expect(await take(station, "g", "c1")).toEqual([]);
    await evictDurableObject(stationStub(station));
    expect(await take(station, "g", "c1")).toEqual([]);
    expect((await stationInfo(station)).stats.delayed).toBe(1);
    await evictDurableObject(stationStub(station));
    // A long-poll on the restarted object: the stored alarm wakes it when the message is due.
    const waited = await take(station, "g", "c1", 10, 10_000);
    expect(offsetsOf(waited)).toEqual([1]);
    expect(Date.now()).toBeGreaterThanOrEqual(waited[0].visibleAt);
  });

  it("is handed out to a group created after its time came, like any other message", async () => {
    const station = await createStation();
    await produce(station, { messages: [{ body: 1, delayMs: 100 }, { body: 2 }] });
    await pass(150);
    await fireAlarm(station);
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "c1"))).toEqual([1, 2]);
  });
});

describe("delayed messages: webhooks", () => {
  let receiver: Receiver;
  beforeEach(() => {
    receiver = mockReceiver();
  });
  afterEach(() => receiver.restore());

  it("an ordered endpoint passes over a delayed message and delivers it when its time comes", async () => {
    const station = await createStation();
    expect((await putWebhook(station, "hook", { url: "http://receiver.test/hook" })).status).toBe(201);
    await produce(station, { messages: [{ body: "late", delayMs: 700 }, { body: "b" }] });
    await waitFor(() => receiver.calls.length >= 1, 10_000, "the visible message");
    expect(receiver.calls[0]!.json).toMatchObject({ offset: 2, body: "b" });
    await pass(200);
    expect(receiver.calls.length).toBe(1); // still hidden
    await waitFor(() => receiver.calls.length >= 2, 10_000, "the delayed message");
    const late = receiver.calls[1]!;
    expect(late.json).toMatchObject({ offset: 1, body: "late", deliveries: 1, station });
    expect(late.json.visibleAt).toBe(late.json.producedAt + 700);
    expect(late.at).toBeGreaterThanOrEqual(late.json.visibleAt);
  });
});

describe("delayed messages on a doc station", () => {
  /** One yjs update writing `text`, from a doc of its own (so no update waits behind another). */
  const update = (clientID: number, text: string) => {
    const { doc, updates } = recordingDoc(clientID);
    doc.getText("t").insert(0, text);
    return encodeBinaryBody(updates[0]!);
  };

  it("refuses an unsequenced batch holding a delayed update with 422 invalid_request, storing nothing", async () => {
    const station = await createDocStation();
    const res = await produce(station, { messages: [{ body: update(1, "now") }, { body: update(2, "later"), delayMs: 60_000 }] });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: "invalid_request", index: 1, delayMs: 60_000 });
    expect(await read(station)).toEqual([]);
    expect(textOf((await readDoc(station)).update)).toBe("");
  });

  it("rules a sequenced delayed update refused invalid_request in its seq and stores the rest", async () => {
    const station = await createDocStation();
    const res = await produce(station, {
      producer: "p",
      messages: [
        { seq: 1, body: update(1, "later"), delayMs: 60_000 },
        { seq: 2, body: update(2, "now") },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results[0]).toMatchObject({ seq: 1, offset: null, refused: { code: "invalid_request", delayMs: 60_000 } });
    expect(res.body.results[1]).toMatchObject({ seq: 2, offset: 1 });
    const stored = await read(station);
    expect(stored.map((m) => m.offset)).toEqual([1]);
    expect(stored[0]).not.toHaveProperty("visibleAt");
    expect(textOf((await readDoc(station)).update)).toBe("now");
    // The ruling stands: the seq sent again gets the same refusal, nothing stored.
    const again = await produce(station, { producer: "p", messages: [{ seq: 1, body: update(1, "later"), delayMs: 60_000 }] });
    expect(again.body.results[0]).toMatchObject({ seq: 1, offset: null, refused: { code: "invalid_request" } });
    expect(await read(station)).toHaveLength(1);
  });
});
