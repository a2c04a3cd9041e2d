// Consumers of a partitioned station: each message carries its partition, handlers see it, and
// verdicts name messages by `{partition, offset, epoch}` (the form that reaches every partition)
// as soon as one of them is not partition 0's — in the browser SDK (long-poll) and the server
// client (socket frames and HTTP).
import { describe, expect, it } from "vitest";
import { runConsumer } from "../../../client/consumer-loop";
import { createServerClient } from "../../../client/server/index";
import { Transport } from "../../../client/transport";

const message = (partition: number, offset: number, epoch?: number) => ({
  partition,
  offset,
  producer: null,
  seq: null,
  id: null,
  key: `k${partition}`,
  headers: {},
  body: { partition, offset },
  producedAt: 1,
  deliveries: 1,
  ...(epoch === undefined ? {} : { epoch }),
});

const until = async (check: () => boolean, what: () => unknown) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), JSON.stringify(what())).toBe(true);
};

describe("browser consumer on a partitioned station", () => {
  it("hands each message's partition to the handler and acks and nacks by {partition, offset, epoch}", async () => {
    const posted: Array<{ route: string; body: any }> = [];
    let fetches = 0;
    const fetch = async (url: string, init: RequestInit) => {
      const route = new URL(url).pathname.split("/").at(-1)!;
      const body = JSON.parse(String(init.body));
      if (route === "fetch") {
        fetches += 1;
        const messages = fetches === 1 ? [message(0, 1), message(2, 1, 4), message(3, 7)] : [];
        if (messages.length === 0) await new Promise((r) => setTimeout(r, 20));
        return Response.json({ messages });
      }
      posted.push({ route, body });
      const n = (body.messages ?? body.offsets).length;
      return Response.json(route === "ack" ? { acked: n } : { nacked: n });
    };
    const seen: [number, number][] = [];
    const transport = new Transport({ url: "http://station.test", token: "t", fetch: fetch as typeof globalThis.fetch, requestTimeoutMs: 5000 });
    const consumer = runConsumer(
      transport,
      "http://station.test",
      "s",
      "g",
      (m) => {
        seen.push([m.partition, m.offset]);
        if (m.partition === 3) throw new Error("fails");
      },
      { transport: "poll", waitMs: 0, nackDelayMs: 50 },
      () => {},
    );
    await until(() => posted.length >= 3, () => posted);
    await consumer.stop();
    expect(seen).toEqual([
      [0, 1],
      [2, 1],
      [3, 7],
    ]);
    const acks = posted.filter((p) => p.route === "ack").map((p) => p.body);
    const nacks = posted.filter((p) => p.route === "nack").map((p) => p.body);
    // One request per epoch: offsets while all its messages are partition 0's, else each message with its partition and epoch.
    expect(acks.sort((a, b) => (a.offsets ? -1 : b.offsets ? 1 : 0))).toEqual([{ offsets: [1], epoch: 0 }, { messages: [{ partition: 2, offset: 1, epoch: 4 }] }]);
    expect(nacks).toEqual([{ messages: [{ partition: 3, offset: 7, epoch: 0 }], delayMs: 50 }]);
  });
});

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: any[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
      this.push({ type: "subscribed", group: "g", consumer: "c", credit: 1 });
    });
  }
  push(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  send(text: string) {
    const frame = JSON.parse(text);
    this.sent.push(frame);
    const n = frame.messages?.length ?? frame.offsets?.length ?? 0;
    if (frame.type === "ack") this.push({ type: "acked", acked: n, ref: frame.ref });
    if (frame.type === "extend") this.push({ type: "extended", extended: n, leaseUntil: Date.now() + 1000, ref: frame.ref });
    if (frame.type === "dead-letter") this.push({ type: "dead-lettered", deadLettered: n, ref: frame.ref });
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code }));
  }
}

describe("server consumer on a partitioned station", () => {
  it("extends, acks and dead-letters by {partition, offset, epoch}, and gives back unstarted messages to their partitions on stop", async () => {
    FakeSocket.all = [];
    const posted: Array<{ path: string; body: any }> = [];
    const fetch = async (url: string, init: RequestInit) => {
      posted.push({ path: new URL(url).pathname, body: JSON.parse(String(init.body)) });
      return Response.json({ nacked: 1 });
    };
    const client = createServerClient({ url: "http://station.test", token: "t", WebSocket: FakeSocket as any, fetch: fetch as any });
    const seen: number[] = [];
    let release!: () => void;
    const consumer = client.consume(
      "s",
      "g",
      async (m) => {
        seen.push(m.partition);
        expect(await m.working()).toBe(true);
        if (m.partition === 5) return m.deadLetter("unreadable");
        if (m.partition === 6) await new Promise<void>((r) => (release = r));
      },
      { concurrency: 1, max: 3 },
    );
    await until(() => FakeSocket.all[0]?.readyState === 1, () => FakeSocket.all.length);
    const socket = FakeSocket.all[0]!;
    socket.push({ type: "messages", messages: [message(4, 9, 2)], credit: 0 });
    await until(() => socket.sent.some((f) => f.type === "ack"), () => socket.sent);
    expect(socket.sent.find((f) => f.type === "extend")).toMatchObject({ messages: [{ partition: 4, offset: 9, epoch: 2 }], ref: expect.any(String) });
    expect(socket.sent.find((f) => f.type === "ack")).toMatchObject({ messages: [{ partition: 4, offset: 9, epoch: 2 }], ref: expect.any(String) });
    socket.push({ type: "messages", messages: [message(5, 3)], credit: 0 });
    await until(() => socket.sent.some((f) => f.type === "dead-letter"), () => socket.sent);
    expect(socket.sent.find((f) => f.type === "dead-letter")).toMatchObject({ messages: [{ partition: 5, offset: 3, epoch: 0 }], reason: "unreadable" });
    // One running, one leased and not started when the consumer stops: that one goes back at once.
    socket.push({ type: "messages", messages: [message(6, 1), message(7, 2)], credit: 0 });
    await until(() => seen.includes(6), () => seen);
    const stopped = consumer.stop();
    setTimeout(() => release(), 20);
    await stopped;
    expect(seen).toEqual([4, 5, 6]);
    expect(posted.find((p) => p.path.endsWith("/nack"))?.body).toEqual({ messages: [{ partition: 7, offset: 2 }], delayMs: 0 });
  });
});
