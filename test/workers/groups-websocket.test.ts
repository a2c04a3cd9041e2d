// WebSocket subscribe (hibernatable): the server pushes leased messages up to the credit the
// client grants, the client acks and nacks on the socket, new messages are pushed on produce,
// and a dropped socket's leases run out and redeliver.
import { exports } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { webSocketProtocols } from "../../shared/websocket-auth";
import { ADMIN_TOKEN, produce } from "./helpers";
import { fireAlarm, groupInfo, offsetsOf, pass, stationStub, stationWith, take, createGroups } from "./groups-helpers";

interface Subscriber {
  socket: WebSocket;
  /** The next frame of `type` (frames of other types before it are kept for later). */
  next(type: string, timeoutMs?: number): Promise<any>;
  send(frame: unknown): void;
  /** Frames received and not taken yet. */
  pending(): any[];
}

async function subscribe(station: string, group: string, query = ""): Promise<Subscriber> {
  const res = await (exports as any).default.fetch(
    new Request(`https://waystation.test/v1/stations/${station}/groups/${group}/subscribe${query}`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
  );
  expect(res.status).toBe(101);
  const socket: WebSocket = res.webSocket;
  socket.accept();
  const frames: any[] = [];
  const wakers: Array<() => void> = [];
  socket.addEventListener("message", (event) => {
    frames.push(JSON.parse(event.data as string));
    wakers.splice(0).forEach((wake) => wake());
  });
  const next = async (type: string, timeoutMs = 5000): Promise<any> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = frames.findIndex((f) => f.type === type);
      if (index >= 0) return frames.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        wakers.push(resolve);
        setTimeout(resolve, left);
      });
    }
  };
  return { socket, next, send: (frame) => socket.send(JSON.stringify(frame)), pending: () => frames };
}

describe("subscribe", () => {
  it("pushes leased messages up to the credit, and more when the client grants more", async () => {
    const station = await stationWith(5);
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "?consumer=ws-1");
    expect(await sub.next("subscribed")).toEqual({ type: "subscribed", group: "g", consumer: "ws-1", credit: 0 });
    sub.send({ type: "credit", n: 3 });
    const first = await sub.next("messages");
    expect(offsetsOf(first.messages)).toEqual([1, 2, 3]);
    expect(first.messages[0]).toMatchObject({ offset: 1, body: { n: 1 }, deliveries: 1 });
    expect(first.credit).toBe(0);
    await pass(50);
    expect(sub.pending().filter((f) => f.type === "messages")).toEqual([]);
    sub.send({ type: "credit", n: 10 });
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([4, 5]);
    sub.socket.close();
  });

  it("acks and nacks on the socket, with the answer carrying the ref", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "?consumer=ws&credit=3");
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([1, 2, 3]);
    sub.send({ type: "ack", offsets: [1, 2], ref: "a1" });
    expect(await sub.next("acked")).toEqual({ type: "acked", acked: 2, ref: "a1" });
    sub.send({ type: "ack", offsets: [1] });
    expect(await sub.next("acked")).toEqual({ type: "acked", acked: 0 });
    sub.send({ type: "credit", n: 1 });
    sub.send({ type: "nack", offsets: [3] });
    expect(await sub.next("nacked")).toEqual({ type: "nacked", nacked: 1 });
    const again = await sub.next("messages");
    expect(again.messages.map((m: any) => [m.offset, m.deliveries])).toEqual([[3, 2]]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 2, pending: 1 });
    sub.socket.close();
  });

  it("pushes messages produced later to a subscriber with credit", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["live"]);
    const sub = await subscribe(station, "live", "?credit=10");
    await sub.next("subscribed");
    await produce(station, { messages: [{ body: "a" }, { body: "b" }] });
    const pushed = await sub.next("messages");
    expect(pushed.messages.map((m: any) => m.body)).toEqual(["a", "b"]);
    expect(pushed.credit).toBe(8);
    sub.socket.close();
  });

  it("shares a group between a subscriber and fetches without handing a message out twice", async () => {
    const station = await stationWith(4);
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "?credit=2");
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([1, 2]);
    expect(offsetsOf(await take(station, "g", "http", 10))).toEqual([3, 4]);
    sub.socket.close();
  });

  it("answers a bad frame with an error frame and keeps the socket open", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g");
    await sub.next("subscribed");
    sub.send({ type: "ack", offsets: [0] });
    expect((await sub.next("error")).error.code).toBe("invalid_request");
    sub.socket.send("not json");
    expect((await sub.next("error")).error.code).toBe("invalid_json");
    sub.send({ type: "credit", n: 1 });
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([1]);
    sub.socket.close();
  });

  it("lets a dropped socket's leases run out and redeliver", async () => {
    const station = await stationWith(2, { ackTimeoutMs: 150 });
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "?credit=2");
    expect(offsetsOf((await sub.next("messages")).messages)).toEqual([1, 2]);
    sub.socket.close(1000, "bye");
    expect(await take(station, "g", "other")).toEqual([]);
    await pass(200);
    await fireAlarm(station);
    const again = await take(station, "g", "other");
    expect(again.map((m) => [m.offset, m.deliveries])).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it("keeps a subscriber's credit through hibernation", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    const sub = await subscribe(station, "g", "?credit=5");
    await sub.next("subscribed");
    await evictDurableObject(stationStub(station));
    await produce(station, { messages: [{ body: 1 }, { body: 2 }] });
    const pushed = await sub.next("messages");
    expect(offsetsOf(pushed.messages)).toEqual([1, 2]);
    expect(pushed.credit).toBe(3);
    sub.send({ type: "ack", offsets: [1, 2] });
    expect(await sub.next("acked")).toEqual({ type: "acked", acked: 2 });
    sub.socket.close();
  });

  it("takes a browser's token as a subprotocol and selects ours in the answer", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    const res = await (exports as any).default.fetch(
      new Request(`https://waystation.test/v1/stations/${station}/groups/g/subscribe?credit=1`, {
        headers: { upgrade: "websocket", "sec-websocket-protocol": webSocketProtocols(ADMIN_TOKEN).join(", ") },
      }),
    );
    expect(res.status).toBe(101);
    expect(res.headers.get("sec-websocket-protocol")).toBe("waystation");
    const socket: WebSocket = res.webSocket;
    socket.accept();
    const frames: any[] = [];
    socket.addEventListener("message", (event) => frames.push(JSON.parse(event.data as string)));
    for (let i = 0; i < 100 && !frames.some((f) => f.type === "messages"); i++) await pass(20);
    expect(offsetsOf(frames.find((f) => f.type === "messages").messages)).toEqual([1]);
    socket.close();
  });

  it("refuses a plain GET and a bad query", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    const plain = await (exports as any).default.fetch(
      new Request(`https://waystation.test/v1/stations/${station}/groups/g/subscribe`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    expect(plain.status).toBe(422);
    expect((await plain.json()).error.code).toBe("invalid_request");
    const badCredit = await (exports as any).default.fetch(
      new Request(`https://waystation.test/v1/stations/${station}/groups/g/subscribe?credit=-1`, {
        headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(badCredit.status).toBe(422);
    const noStation = await (exports as any).default.fetch(
      new Request(`https://waystation.test/v1/stations/none-${Date.now()}/groups/g/subscribe`, {
        headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(noStation.status).toBe(404);
    expect((await noStation.json()).error.code).toBe("station_not_found");
  });
});
