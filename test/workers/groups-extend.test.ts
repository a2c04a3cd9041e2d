// A consumer's two verdicts besides ack and nack, over HTTP and on the subscribe socket:
// `extend` keeps its live leases another ackTimeoutMs (never another consumer's, never one that
// ran out), and `dead-letter` files leased messages in the DLS at once (reason `rejected`).
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api } from "./helpers";
import { ack, createGroups, deadLetters, fireAlarm, groupInfo, offsetsOf, pass, stationWith, take } from "./groups-helpers";

const groupPath = (station: string, group: string) => `/v1/stations/${station}/groups/${group}`;
const extend = (station: string, group: string, body: unknown) => api("POST", `${groupPath(station, group)}/extend`, body);
const deadLetter = (station: string, group: string, body: unknown) => api("POST", `${groupPath(station, group)}/dead-letter`, body);

describe("POST …/groups/{group}/extend", () => {
  it("keeps a lease past its ackTimeoutMs while the holder extends it; nobody else gets the message", async () => {
    const station = await stationWith(2, { ackTimeoutMs: 1000 });
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "worker", 2))).toEqual([1, 2]);
    // Three extensions, each well before the lease ends: 1.8 s in all, past the 1 s timeout.
    for (let i = 0; i < 3; i++) {
      await pass(600);
      const before = Date.now();
      const res = await extend(station, "g", { consumer: "worker", offsets: [1] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.extended).toBe(1);
      expect(res.body.leaseUntil).toBeGreaterThanOrEqual(before + 1000);
      await fireAlarm(station);
    }
    // Offset 2 was not extended: it ran out and goes to another consumer; offset 1 does not.
    const other = await take(station, "g", "other", 10);
    expect(offsetsOf(other)).toEqual([2]);
    expect(other[0].deliveries).toBe(2);
    expect((await ack(station, "g", [1])).body.acked).toBe(1);
    expect(await groupInfo(station, "g")).toMatchObject({ acked: 1, redeliveries: 0 });
  });

  it("extends only the leases the named consumer holds and that have not run out", async () => {
    const station = await stationWith(2, { ackTimeoutMs: 200 });
    await createGroups(station, ["g"]);
    await take(station, "g", "alice", 1);
    await take(station, "g", "bob", 1);
    // Alice cannot keep Bob's message, and offsets nobody holds are ignored.
    expect((await extend(station, "g", { consumer: "alice", offsets: [1, 2, 99] })).body).toMatchObject({ extended: 1 });
    await pass(450);
    // Alice's lease ran out (by the clock, before any alarm): too late to extend it.
    expect((await extend(station, "g", { consumer: "alice", offsets: [1] })).body).toEqual({ extended: 0, leaseUntil: 0 });
    await fireAlarm(station);
    expect(offsetsOf(await take(station, "g", "carol", 10))).toEqual([1, 2]);
  });

  it("refuses a bad body (422) and an unknown group (404 group_not_found)", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    expect((await extend(station, "g", { offsets: [] })).status).toBe(422);
    expect((await extend(station, "g", { consumer: "BAD NAME", offsets: [1] })).status).toBe(422);
    expect((await extend(station, "g", { offsets: [1], extra: true })).status).toBe(422);
    const missing = await extend(station, "nope", { offsets: [1] });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("group_not_found");
  });
});

describe("POST …/groups/{group}/dead-letter", () => {
  it("files leased messages in the DLS at once with the consumer's reason, and never hands them out again", async () => {
    const station = await stationWith(3, { maxDeliveries: 10, ackTimeoutMs: 200 });
    await createGroups(station, ["g"]);
    expect(offsetsOf(await take(station, "g", "c1", 3))).toEqual([1, 2, 3]);
    const res = await deadLetter(station, "g", { offsets: [2, 2, 3], reason: "unparseable order" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ deadLettered: 2 });
    // Repeating it files nothing twice: those offsets are no longer leased.
    expect((await deadLetter(station, "g", { offsets: [2, 3], reason: "again" })).body).toEqual({ deadLettered: 0 });
    const letters = await deadLetters(station, "?group=g");
    expect(letters.map((l) => [l.offset, l.reason, l.deliveries, l.detail])).toEqual([
      [2, "rejected", 1, { reason: "unparseable order", consumer: "c1" }],
      [3, "rejected", 1, { reason: "unparseable order", consumer: "c1" }],
    ]);
    expect(letters[0].message.body).toEqual({ n: 2 });
    await pass(300);
    await fireAlarm(station);
    expect(offsetsOf(await take(station, "g", "c2", 10))).toEqual([1]);
  });

  it("refuses a missing or empty reason, an oversized one, and an unknown group", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    expect((await deadLetter(station, "g", { offsets: [1] })).status).toBe(422);
    expect((await deadLetter(station, "g", { offsets: [1], reason: "" })).status).toBe(422);
    expect((await deadLetter(station, "g", { offsets: [1], reason: "x".repeat(1001) })).status).toBe(422);
    expect((await deadLetter(station, "nope", { offsets: [1], reason: "r" })).status).toBe(404);
  });
});

async function subscribe(station: string, group: string, consumer: string) {
  const res = await (exports as any).default.fetch(
    new Request(`https://waystation.test${groupPath(station, group)}/subscribe?consumer=${consumer}&credit=10`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
  );
  expect(res.status).toBe(101);
  const socket: WebSocket = res.webSocket;
  socket.accept();
  const frames: any[] = [];
  socket.addEventListener("message", (event) => frames.push(JSON.parse(event.data as string)));
  const next = async (type: string): Promise<any> => {
    for (let waited = 0; waited < 5000; waited += 10) {
      const index = frames.findIndex((f) => f.type === type);
      if (index >= 0) return frames.splice(index, 1)[0];
      await pass(10);
    }
    throw new Error(`no ${type} frame; got ${JSON.stringify(frames)}`);
  };
  return { socket, next, send: (frame: unknown) => socket.send(JSON.stringify(frame)) };
}

describe("extend and dead-letter frames on the subscribe socket", () => {
  it("extend keeps the socket consumer's lease past ackTimeoutMs (no redelivery) and answers with its ref", async () => {
    const station = await stationWith(1, { ackTimeoutMs: 1000, maxDeliveries: 10 });
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "ws-1");
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([1]);
    for (let i = 0; i < 3; i++) {
      await pass(600);
      sub.send({ type: "extend", offsets: [1], ref: `e${i}` });
      expect(await sub.next("extended")).toMatchObject({ type: "extended", extended: 1, ref: `e${i}` });
      await fireAlarm(station);
    }
    // 1.8 s after the hand-out, past the 1 s ack timeout: still one delivery, nothing back in line.
    expect(await groupInfo(station, "g")).toMatchObject({ delivered: 1, redeliveries: 0 });
    sub.send({ type: "ack", offsets: [1] });
    expect(await sub.next("acked")).toMatchObject({ acked: 1 });
    sub.socket.close(1000, "done");
  });

  it("dead-letters a message still leased to the socket, and answers a bad frame with an error", async () => {
    const station = await stationWith(1, { maxDeliveries: 10 });
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "ws-2");
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([1]);
    sub.send({ type: "dead-letter", offsets: [1], reason: "poison", ref: "d1" });
    expect(await sub.next("dead-lettered")).toEqual({ type: "dead-lettered", deadLettered: 1, ref: "d1" });
    expect((await deadLetters(station, "?group=g")).map((l) => [l.offset, l.reason, l.detail])).toEqual([[1, "rejected", { reason: "poison", consumer: "ws-2" }]]);
    sub.send({ type: "dead-letter", offsets: [1] });
    expect((await sub.next("error")).error.code).toBe("invalid_request");
    sub.send({ type: "extend", offsets: [1], ref: "late" });
    expect(await sub.next("extended")).toEqual({ type: "extended", extended: 0, leaseUntil: 0, ref: "late" });
    sub.socket.close(1000, "done");
  });

  it("after a seek, extend and dead-letter frames naming the old epoch change nothing; the current epoch's do", async () => {
    const station = await stationWith(1, { maxDeliveries: 10 });
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "ws-3");
    const first = (await sub.next("messages")).messages;
    expect(offsetsOf(first)).toEqual([1]);
    expect(first[0]).not.toHaveProperty("epoch"); // epoch 0: not written
    const moved = await api("POST", `${groupPath(station, "g")}/seek`, { to: "earliest" });
    expect(moved.body).toMatchObject({ epoch: 1, dropped: 1 });
    // The same socket gets the message again, now in epoch 1.
    const again = (await sub.next("messages")).messages;
    expect(again).toMatchObject([{ offset: 1, epoch: 1 }]);
    sub.send({ type: "extend", offsets: [1], epoch: 0, ref: "x0" });
    expect(await sub.next("extended")).toEqual({ type: "extended", extended: 0, leaseUntil: 0, ref: "x0" });
    sub.send({ type: "dead-letter", offsets: [1], reason: "stale", epoch: 0, ref: "d0" });
    expect(await sub.next("dead-lettered")).toEqual({ type: "dead-lettered", deadLettered: 0, ref: "d0" });
    expect(await deadLetters(station, "?group=g")).toEqual([]);
    expect(await groupInfo(station, "g")).toMatchObject({ pending: 1 });
    sub.send({ type: "extend", offsets: [1], epoch: 1, ref: "x1" });
    expect(await sub.next("extended")).toMatchObject({ extended: 1, ref: "x1" });
    sub.send({ type: "dead-letter", offsets: [1], reason: "poison", epoch: 1, ref: "d1" });
    expect(await sub.next("dead-lettered")).toEqual({ type: "dead-lettered", deadLettered: 1, ref: "d1" });
    expect((await deadLetters(station, "?group=g")).map((l) => l.offset)).toEqual([1]);
    sub.socket.close(1000, "done");
  });
});
