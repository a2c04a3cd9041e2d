// Frames of a group's subscribe socket are checked against the contract (ServerFrameSchema) on
// receipt, by the browser's consumer and by the server client's consumer and verdicts. A frame
// that does not fit is reported as `bad_response` and dropped, the socket stays open, and what
// it would have settled is settled another way: a verdict whose answer came unreadable (or of
// the wrong kind) goes over HTTP at once; a message in a broken push is never acked, so its
// lease runs out and it is handed out again.
import { afterEach, describe, expect, it } from "vitest";
import { runConsumer } from "../../../client/consumer-loop";
import type { WaystationError } from "../../../client/errors";
import { createServerClient } from "../../../client/server/index";
import { readServerFrame } from "../../../client/subscribe-frame";
import { Transport } from "../../../client/transport";

const message = (offset: number) => ({ partition: 0, offset, producer: null, seq: null, id: null, key: null, headers: {}, body: { offset }, producedAt: 1, deliveries: 1 });

const until = async (check: () => boolean, what: () => unknown) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), JSON.stringify(what())).toBe(true);
};

/** A subscribe socket the test scripts; `answer` says what the station sends back to a client frame. */
class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  static answer: (frame: any) => unknown = () => undefined;
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
    this.pushText(JSON.stringify(frame));
  }
  pushText(data: string) {
    this.onmessage?.({ data });
  }
  send(text: string) {
    const frame = JSON.parse(text);
    this.sent.push(frame);
    const answer = FakeSocket.answer(frame);
    if (answer !== undefined) setTimeout(() => this.push(answer));
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code }));
  }
}

describe("reading a subscribe frame", () => {
  it("takes every frame the contract describes", () => {
    const frames = [
      { type: "subscribed", group: "g", consumer: "c", credit: 3 },
      { type: "messages", messages: [message(1), { ...message(2), partition: 1, epoch: 2 }], credit: 1 },
      { type: "acked", acked: 1, ref: "v1" },
      { type: "nacked", nacked: 0 },
      { type: "extended", extended: 1, leaseUntil: 5, ref: "v2" },
      { type: "dead-lettered", deadLettered: 1, ref: "v3" },
      { type: "error", error: { code: "rate_limited", message: "slow down", retryAfterSeconds: 1 }, ref: "v4" },
    ];
    for (const frame of frames) expect(readServerFrame(JSON.stringify(frame)), frame.type).toEqual({ ok: true, frame });
  });

  it("reports a frame that is not JSON, of an unknown type, or of a known type with the wrong fields as bad_response", () => {
    const broken = [
      "not json",
      JSON.stringify({ type: "hello" }),
      JSON.stringify(null),
      JSON.stringify({ type: "messages", messages: [{ ...message(1), offset: "1" }], credit: 0 }),
      JSON.stringify({ type: "subscribed", group: "g", consumer: "c" }),
      JSON.stringify({ type: "error", error: { message: "no code" } }),
    ];
    for (const text of broken) {
      const reading = readServerFrame(text);
      expect(reading.ok, text).toBe(false);
      if (!reading.ok) expect(reading.error.code, text).toBe("bad_response");
    }
  });

  it("names the ref of a broken answer, so the verdict that waits on it can be sent another way", () => {
    const reading = readServerFrame(JSON.stringify({ type: "acked", acked: -1, ref: "v7" }));
    expect(reading).toMatchObject({ ok: false, ref: "v7", error: { code: "bad_response" } });
  });
});

describe("browser consumer on a frame that does not fit", () => {
  const original = globalThis.WebSocket;
  afterEach(() => {
    globalThis.WebSocket = original;
    FakeSocket.answer = () => undefined;
  });

  it("reports it, acks nothing of it, and goes on with the next frames on the same socket", async () => {
    FakeSocket.all = [];
    globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
    const errors: WaystationError[] = [];
    const seen: number[] = [];
    const fetch = async () => Response.json({ messages: [] });
    const transport = new Transport({ url: "http://station.test", token: "t", fetch: fetch as typeof globalThis.fetch, requestTimeoutMs: 5000 });
    const consumer = runConsumer(transport, "http://station.test", "s", "g", (m) => void seen.push(m.offset), { transport: "websocket", onError: (e) => errors.push(e) }, () => {});
    await until(() => FakeSocket.all[0]?.readyState === 1, () => FakeSocket.all.length);
    const socket = FakeSocket.all[0]!;
    // A push whose second message has no offset: none of it reaches the handler or is acked.
    socket.push({ type: "messages", messages: [message(1), { ...message(2), offset: undefined }], credit: 8 });
    socket.pushText("{");
    socket.push({ type: "error", error: "not an object" });
    expect(errors.map((e) => e.code)).toEqual(["bad_response", "bad_response", "bad_response"]);
    socket.push({ type: "messages", messages: [message(3)], credit: 9 });
    await until(() => socket.sent.some((f) => f.type === "credit"), () => socket.sent);
    expect(seen).toEqual([3]);
    expect(socket.sent).toEqual([
      { type: "ack", offsets: [3], epoch: 0 },
      { type: "credit", n: 1 },
    ]);
    expect(socket.readyState).toBe(1);
    expect(FakeSocket.all).toHaveLength(1);
    // An error frame that fits is reported with its code and details.
    socket.push({ type: "error", error: { code: "rate_limited", message: "slow down", retryAfterSeconds: 2 } });
    expect(errors.at(-1)).toMatchObject({ code: "rate_limited", message: "slow down", details: { retryAfterSeconds: 2 } });
    await consumer.stop();
  });
});

describe("server consumer on a frame that does not fit", () => {
  afterEach(() => {
    FakeSocket.answer = () => undefined;
  });

  const serverClient = (posted: Array<{ path: string; body: any }>) =>
    createServerClient({
      url: "http://station.test",
      token: "t",
      WebSocket: FakeSocket as any,
      fetch: (async (url: string, init: RequestInit) => {
        const path = new URL(url).pathname;
        const body = JSON.parse(String(init.body));
        posted.push({ path, body });
        const route = path.split("/").at(-1);
        return Response.json(route === "ack" ? { acked: body.offsets.length } : route === "nack" ? { nacked: body.offsets.length } : { messages: [] });
      }) as any,
    });

  it("drops a broken push unhandled and handles the next one", async () => {
    FakeSocket.all = [];
    FakeSocket.answer = (frame) => (frame.type === "ack" ? { type: "acked", acked: frame.offsets.length, ref: frame.ref } : undefined);
    const errors: WaystationError[] = [];
    const seen: number[] = [];
    const posted: Array<{ path: string; body: any }> = [];
    const consumer = serverClient(posted).consume("s", "g", (m) => void seen.push(m.offset), { max: 4, onError: (e) => errors.push(e) });
    await until(() => FakeSocket.all[0]?.readyState === 1, () => FakeSocket.all.length);
    const socket = FakeSocket.all[0]!;
    socket.push({ type: "messages", messages: [{ ...message(1), headers: { a: 1 } }], credit: 3 });
    expect(errors.map((e) => e.code)).toEqual(["bad_response"]);
    socket.push({ type: "messages", messages: [message(2)], credit: 2 });
    await until(() => socket.sent.some((f) => f.type === "ack"), () => socket.sent);
    expect(seen).toEqual([2]);
    expect(socket.sent.filter((f) => f.type === "ack").map((f) => f.offsets)).toEqual([[2]]);
    await consumer.stop();
    expect(posted).toEqual([]);
  });

  it("sends a verdict over HTTP at once when its answer on the socket does not fit the contract", async () => {
    FakeSocket.all = [];
    FakeSocket.answer = (frame) => (frame.type === "ack" ? { type: "acked", acked: "one", ref: frame.ref } : undefined);
    const errors: WaystationError[] = [];
    const posted: Array<{ path: string; body: any }> = [];
    const consumer = serverClient(posted).consume("s", "g", () => {}, { onError: (e) => errors.push(e) });
    await until(() => FakeSocket.all[0]?.readyState === 1, () => FakeSocket.all.length);
    const socket = FakeSocket.all[0]!;
    socket.push({ type: "messages", messages: [message(5)], credit: 0 });
    await until(() => posted.length > 0, () => socket.sent);
    expect(posted).toEqual([{ path: "/v1/stations/s/groups/g/ack", body: { offsets: [5], epoch: 0 } }]);
    expect(socket.sent.find((f) => f.type === "ack")).toMatchObject({ offsets: [5], ref: expect.any(String) });
    expect(errors.map((e) => e.code)).toEqual(["bad_response"]);
    // The socket was not given up for it (a verdict's lost answer closes it only when none comes).
    expect(socket.readyState).toBe(1);
    await consumer.stop();
  });

  it("sends a verdict over HTTP when the socket answers it with a frame of another kind", async () => {
    FakeSocket.all = [];
    FakeSocket.answer = (frame) => (frame.type === "ack" ? { type: "nacked", nacked: 1, ref: frame.ref } : undefined);
    const errors: WaystationError[] = [];
    const posted: Array<{ path: string; body: any }> = [];
    const consumer = serverClient(posted).consume("s", "g", () => {}, { onError: (e) => errors.push(e) });
    await until(() => FakeSocket.all[0]?.readyState === 1, () => FakeSocket.all.length);
    FakeSocket.all[0]!.push({ type: "messages", messages: [message(6)], credit: 0 });
    await until(() => posted.length > 0, () => FakeSocket.all[0]!.sent);
    expect(posted).toEqual([{ path: "/v1/stations/s/groups/g/ack", body: { offsets: [6], epoch: 0 } }]);
    expect(errors.map((e) => e.code)).toEqual(["bad_response"]);
    await consumer.stop();
  });
});
