// WebSocket subscribe on a partitioned station (docs/consumer-groups.md, "Partitions"): the
// Worker holds the socket and serves every partition with one credit; messages arriving on any
// partition are pushed; acks and the other frames name `{partition, offset}` (or offsets of
// partition 0) and are answered with the same frames as on one partition; the socket closes at
// its token's expiry (4001), after flooding over its token's rate (1008) and when its group is
// deleted.
import { describe, expect, it } from "vitest";
import { SocketCloseCode } from "../../shared/websocket-auth";
import { ADMIN_TOKEN, api } from "./helpers";
import { pass } from "./groups-helpers";
import { fillEveryPartition, groupPath, keyFor, partitionedStation, produceKeyed, putGroup, readGroup, refsOf } from "./partitions-groups-helpers";
import { closeOf, openSocket } from "./security-helpers";
import { grantToken } from "./token-helpers";

const subscribePath = (station: string, query: string) => `${groupPath(station, "g")}/subscribe${query}`;

/** Takes `messages` frames until `count` messages came; fails if more come than that. */
async function takeMessages(sub: Awaited<ReturnType<typeof openSocket>>, count: number): Promise<any[]> {
  const got: any[] = [];
  while (got.length < count) got.push(...(await sub.next("messages")).messages);
  expect(got).toHaveLength(count);
  return got;
}

describe("subscribe on a partitioned station", () => {
  it("shares one credit across partitions, and pushes more when the client grants more", async () => {
    const station = await partitionedStation(4);
    await fillEveryPartition(station, 4, 5);
    expect((await putGroup(station, "g")).status).toBe(201);
    const sub = await openSocket(subscribePath(station, "?consumer=ws&credit=6"), ADMIN_TOKEN);
    expect(await sub.next("subscribed")).toEqual({ type: "subscribed", group: "g", consumer: "ws", credit: 6 });
    const first = await takeMessages(sub, 6);
    expect(new Set(first.map((m) => m.partition)).size).toBeGreaterThan(1);
    await pass(300);
    expect(sub.frames.filter((f) => f.type === "messages")).toEqual([]);
    expect((await readGroup(station, "g")).pending).toBe(6);
    sub.send({ type: "credit", n: 100 });
    const rest = await takeMessages(sub, 14);
    const all = [...first, ...rest];
    expect(new Set(all.map((m) => `${m.partition}:${m.offset}`)).size).toBe(20);
    for (let p = 0; p < 4; p++) {
      const offsets = all.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offsets).toEqual([1, 2, 3, 4, 5]);
    }
    sub.socket.close();
  });

  it("pushes a message produced to any partition while it waits", async () => {
    const station = await partitionedStation(4);
    expect((await putGroup(station, "g")).status).toBe(201);
    const sub = await openSocket(subscribePath(station, "?consumer=ws&credit=10"), ADMIN_TOKEN);
    await sub.next("subscribed");
    await pass(200);
    await produceKeyed(station, 4, [{ key: keyFor(2, 4), body: { n: 1 } }]);
    expect((await sub.next("messages")).messages.map((m: any) => [m.partition, m.offset])).toEqual([[2, 1]]);
    await produceKeyed(station, 4, [{ key: keyFor(3, 4), body: { n: 2 } }]);
    expect((await sub.next("messages")).messages.map((m: any) => [m.partition, m.offset])).toEqual([[3, 1]]);
    sub.socket.close();
  });

  it("acks, nacks, extends and dead-letters by refs across partitions, answering with the ref", async () => {
    const station = await partitionedStation(3);
    await fillEveryPartition(station, 3, 2);
    expect((await putGroup(station, "g")).status).toBe(201);
    const sub = await openSocket(subscribePath(station, "?consumer=ws&credit=6"), ADMIN_TOKEN);
    const got = await takeMessages(sub, 6);
    const [a, b, c, d, ...rest] = got;
    sub.send({ type: "ack", messages: refsOf([a, b]), ref: "a1" });
    expect(await sub.next("acked")).toEqual({ type: "acked", acked: 2, ref: "a1" });
    sub.send({ type: "ack", messages: refsOf([a, b]) });
    expect(await sub.next("acked")).toEqual({ type: "acked", acked: 0 });
    sub.send({ type: "extend", messages: refsOf([c]), ref: "e" });
    expect(await sub.next("extended")).toMatchObject({ type: "extended", extended: 1, ref: "e" });
    sub.send({ type: "dead-letter", messages: refsOf([d]), reason: "bad", ref: "d" });
    expect(await sub.next("dead-lettered")).toEqual({ type: "dead-lettered", deadLettered: 1, ref: "d" });
    sub.send({ type: "nack", messages: refsOf(rest), ref: "n" });
    expect(await sub.next("nacked")).toEqual({ type: "nacked", nacked: rest.length, ref: "n" });
    // Partition 0's messages by offsets: the form an unpartitioned client sends.
    sub.send({ type: "credit", n: 10 });
    const again = await takeMessages(sub, rest.length);
    expect(again.every((m) => m.deliveries === 2)).toBe(true);
    const zero = again.filter((m) => m.partition === 0).map((m) => m.offset);
    const others = again.filter((m) => m.partition !== 0);
    sub.send({ type: "ack", offsets: zero.length > 0 ? zero : [99], ref: "z" });
    expect(await sub.next("acked")).toEqual({ type: "acked", acked: zero.length, ref: "z" });
    if (others.length > 0) {
      sub.send({ type: "ack", messages: refsOf(others) });
      expect((await sub.next("acked")).acked).toBe(others.length);
    }
    sub.send({ type: "ack", messages: [{ partition: 7, offset: 1 }], ref: "out" });
    expect(await sub.next("error")).toMatchObject({ error: { code: "partition_out_of_range" }, ref: "out" });
    sub.send({ type: "ack", offsets: [1], messages: [{ partition: 1, offset: 1 }], ref: "both" });
    expect(await sub.next("error")).toMatchObject({ error: { code: "invalid_request" }, ref: "both" });
    const info = await readGroup(station, "g");
    expect(info).toMatchObject({ acked: 2 + rest.length, deadLetters: 1, pending: 1 });
    sub.socket.close();
  });

  it("closes at its token's expiry with 4001, and obeys nothing sent after", async () => {
    const station = await partitionedStation(2);
    await fillEveryPartition(station, 2, 1);
    expect((await putGroup(station, "g")).status).toBe(201);
    const token = await grantToken([station], ["consume"], { expiresIn: 2 });
    const sub = await openSocket(subscribePath(station, "?consumer=ws&credit=2"), token);
    const got = await takeMessages(sub, 2);
    const closed = await closeOf(sub);
    expect(closed.code).toBe(SocketCloseCode.TokenExpired);
    sub.send({ type: "ack", messages: refsOf(got), ref: "late" });
    await pass(100);
    expect(sub.frames.filter((f) => f.type === "acked")).toEqual([]);
    expect((await readGroup(station, "g")).pending).toBe(2);
  });

  it("refuses to open for an expired token, and for a group that does not exist", async () => {
    const station = await partitionedStation(2);
    const token = await grantToken([station], ["consume"], { expiresIn: -5 });
    const { exports } = (await import("cloudflare:workers")) as any;
    const expired: Response = await exports.default.fetch(
      new Request(`https://waystation.test${subscribePath(station, "")}`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
    );
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as any).error.reason).toBe("token_expired");
    const missing: Response = await exports.default.fetch(
      new Request(`https://waystation.test${subscribePath(station, "")}`, { headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe("group_not_found");
  });

  it("closes when its group is deleted", async () => {
    const station = await partitionedStation(2);
    expect((await putGroup(station, "g")).status).toBe(201);
    const sub = await openSocket(subscribePath(station, "?consumer=ws&credit=5"), ADMIN_TOKEN);
    await sub.next("subscribed");
    await pass(200);
    expect((await api("DELETE", groupPath(station, "g"))).status).toBe(200);
    expect((await closeOf(sub)).code).toBe(1000);
  });

  it("refuses frames over the token's rate and closes the socket with 1008 when it keeps going", async () => {
    const station = await partitionedStation(2);
    await fillEveryPartition(station, 2, 5);
    expect((await putGroup(station, "g")).status).toBe(201);
    const token = await grantToken([station], ["consume"], { claims: { limits: { requestsPerSecond: 1 } } });
    const sub = await openSocket(subscribePath(station, "?consumer=f&credit=10"), token);
    const got = await takeMessages(sub, 10);
    for (let i = 0; i < 200; i++) sub.send({ type: "ack", messages: refsOf([got[i % got.length]]), ref: `a${i}` });
    expect((await closeOf(sub, 20_000)).code).toBe(SocketCloseCode.PolicyViolation);
    const limited = sub.frames.filter((f) => f.type === "error" && f.error.code === "rate_limited");
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ error: { scope: "token" }, ref: expect.stringMatching(/^a\d+$/) });
    expect(sub.frames.filter((f) => f.type === "acked").length).toBeLessThan(10);
  });
});
