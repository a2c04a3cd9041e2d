// The browser SDK's consumer sends back the epoch its messages carried — on the subscribe
// socket's ack/nack frames and on the HTTP ack/nack of long-poll — so a verdict that arrives
// after the group was moved (`…/seek`) counts for nothing. A message without `epoch` was handed
// out in epoch 0, and its verdict says so.
import { afterEach, describe, expect, it } from "vitest";
import { runConsumer } from "../../../client/consumer-loop";
import { Transport } from "../../../client/transport";

const message = (offset: number, epoch?: number) => ({
  partition: 0,
  offset,
  producer: null,
  seq: null,
  id: null,
  key: null,
  headers: {},
  body: { offset },
  producedAt: 1,
  deliveries: 1,
  ...(epoch === undefined ? {} : { epoch }),
});

const until = async (check: () => boolean, what: () => unknown) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), JSON.stringify(what())).toBe(true);
};

/** Fails the messages whose body says so; acks the rest. */
const handler = async (m: { offset: number }) => {
  if (m.offset % 2 === 0) throw new Error("even offsets fail");
};

describe("browser consumer over long-poll", () => {
  it("acks and nacks over HTTP with the epoch each message carried (0 when it carries none)", async () => {
    const posted: Array<{ route: string; body: any }> = [];
    let fetches = 0;
    const fetch = async (url: string, init: RequestInit) => {
      const route = new URL(url).pathname.split("/").at(-1)!;
      const body = JSON.parse(String(init.body));
      if (route === "fetch") {
        fetches += 1;
        const messages = fetches === 1 ? [message(1, 2), message(2, 2), message(3)] : [];
        if (messages.length === 0) await new Promise((r) => setTimeout(r, 20));
        return Response.json({ messages });
      }
      posted.push({ route, body });
      return Response.json(route === "ack" ? { acked: body.offsets.length } : { nacked: body.offsets.length });
    };
    const transport = new Transport({ url: "http://station.test", token: "t", fetch: fetch as typeof globalThis.fetch, requestTimeoutMs: 5000 });
    const consumer = runConsumer(transport, "http://station.test", "s", "g", handler, { transport: "poll", waitMs: 0, nackDelayMs: 50 }, () => {});
    await until(() => posted.length >= 3, () => posted);
    await consumer.stop();
    const sorted = posted.map((p) => p.body).sort((a, b) => a.offsets[0] - b.offsets[0]);
    expect(sorted).toEqual([
      { offsets: [1], epoch: 2 },
      { offsets: [2], delayMs: 50, epoch: 2 },
      { offsets: [3], epoch: 0 },
    ]);
    expect(posted.find((p) => p.body.offsets[0] === 2)!.route).toBe("nack");
  });
});

class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: any[] = [];
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.push({ type: "subscribed", group: "g", consumer: "c", credit: 10 });
    });
  }
  push(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code }));
  }
}

describe("browser consumer over the subscribe socket", () => {
  const original = globalThis.WebSocket;
  afterEach(() => {
    globalThis.WebSocket = original;
  });

  it("sends the epoch its messages carried on its ack and nack frames", async () => {
    FakeSocket.all = [];
    globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
    const fetch = async () => Response.json({ messages: [] });
    const transport = new Transport({ url: "http://station.test", token: "t", fetch: fetch as typeof globalThis.fetch, requestTimeoutMs: 5000 });
    const consumer = runConsumer(transport, "http://station.test", "s", "g", handler, { transport: "websocket", nackDelayMs: 50 }, () => {});
    await until(() => FakeSocket.all[0]?.readyState === 1, () => FakeSocket.all.length);
    const socket = FakeSocket.all[0]!;
    socket.push({ type: "messages", messages: [message(1, 3), message(2, 3)], credit: 8 });
    await until(() => socket.sent.some((f) => f.type === "credit"), () => socket.sent);
    expect(socket.sent.filter((f) => f.type !== "credit")).toEqual([
      { type: "ack", offsets: [1], epoch: 3 },
      { type: "nack", offsets: [2], delayMs: 50, epoch: 3 },
    ]);
    // Before any seek a message carries no epoch: its ack names epoch 0.
    socket.push({ type: "messages", messages: [message(5)], credit: 9 });
    await until(() => socket.sent.filter((f) => f.type === "credit").length === 2, () => socket.sent);
    expect(socket.sent.find((f) => f.type === "ack" && f.offsets[0] === 5)).toEqual({ type: "ack", offsets: [5], epoch: 0 });
    await consumer.stop();
  });
});
