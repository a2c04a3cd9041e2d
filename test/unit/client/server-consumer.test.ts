// The server client's consumer against a scripted subscribe socket: a socket closed for its
// token (4001) reconnects at once with a fresh token from getToken; verdicts go as frames with a
// ref; working() extends over the socket; stop() lets a running handler finish and its ack
// reach the station (over HTTP once the socket is closed).
import { describe, expect, it } from "vitest";
import { tokenFromProtocols } from "../../../shared/websocket-auth";
import { createServerClient } from "../../../client/server/index";

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: any[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
      this.push({ type: "subscribed", group: "g", consumer: "c", credit: 1 });
    });
  }
  get token() {
    return tokenFromProtocols(this.protocols.join(","));
  }
  push(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  send(text: string) {
    const frame = JSON.parse(text);
    this.sent.push(frame);
    // The station answers verdicts with the frame's ref.
    if (frame.type === "ack") this.push({ type: "acked", acked: frame.offsets.length, ref: frame.ref });
    if (frame.type === "extend") this.push({ type: "extended", extended: 1, leaseUntil: Date.now() + 1000, ref: frame.ref });
    if (frame.type === "dead-letter") this.push({ type: "dead-lettered", deadLettered: 1, ref: frame.ref });
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code }));
  }
}

const message = (offset: number) => ({ partition: 0, offset, producer: null, seq: null, id: null, key: null, headers: {}, body: { offset }, producedAt: 1, deliveries: 1 });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), `${check} with ${FakeSocket.all.length} sockets: ${JSON.stringify(FakeSocket.all.map((s) => [s.readyState, s.sent]))}`).toBe(true);
};

describe("server consumer over the subscribe socket", () => {
  it("reconnects at once with a fresh token after a 4001 close, and sends verdicts as frames with refs", async () => {
    FakeSocket.all = [];
    let minted = 0;
    const client = createServerClient({ url: "http://station.test", getToken: () => `token-${++minted}`, WebSocket: FakeSocket as any, fetch: (async () => new Response("{}")) as any });
    const seen: number[] = [];
    const consumer = client.consume("s", "g", async (m) => {
      expect(await m.working()).toBe(true);
      seen.push(m.offset);
    });
    await until(() => FakeSocket.all.length === 1 && FakeSocket.all[0]!.readyState === 1);
    expect(FakeSocket.all[0]!.token).toBe("token-1");
    expect(FakeSocket.all[0]!.url).toContain("/v1/stations/s/groups/g/subscribe?consumer=srv-");
    // A message handed out after the group was moved carries its epoch; the ack sends it back.
    FakeSocket.all[0]!.push({ type: "messages", messages: [{ ...message(1), epoch: 3 }], credit: 0 });
    await until(() => FakeSocket.all[0]!.sent.some((f) => f.type === "ack"));
    const [extend, ack] = [FakeSocket.all[0]!.sent.find((f) => f.type === "extend"), FakeSocket.all[0]!.sent.find((f) => f.type === "ack")];
    expect(extend).toMatchObject({ offsets: [1], epoch: 3, ref: expect.any(String) });
    expect(ack).toMatchObject({ offsets: [1], epoch: 3, ref: expect.any(String) });
    await until(() => FakeSocket.all[0]!.sent.some((f) => f.type === "credit"));

    FakeSocket.all[0]!.close(4001); // the token expired under a working socket
    await until(() => FakeSocket.all.length === 2);
    expect(FakeSocket.all[1]!.token).toBe("token-2");
    await consumer.stop();
    expect(seen).toEqual([1]);
    expect(consumer.transport).toBe("websocket");
  });

  it("dead-letters with the epoch the message carried, so a late one after a seek files nothing", async () => {
    FakeSocket.all = [];
    const client = createServerClient({ url: "http://station.test", token: "t", WebSocket: FakeSocket as any, fetch: (async () => new Response("{}")) as any });
    const consumer = client.consume("s", "g", async (m) => m.deadLetter("unreadable"));
    await until(() => FakeSocket.all.length === 1 && FakeSocket.all[0]!.readyState === 1);
    FakeSocket.all[0]!.push({ type: "messages", messages: [{ ...message(4), epoch: 2 }], credit: 0 });
    await until(() => FakeSocket.all[0]!.sent.some((f) => f.type === "dead-letter"));
    expect(FakeSocket.all[0]!.sent.find((f) => f.type === "dead-letter")).toMatchObject({ offsets: [4], reason: "unreadable", epoch: 2, ref: expect.any(String) });
    await consumer.stop();
  });

  it("stop() lets a running handler finish and gets its ack to the station", async () => {
    FakeSocket.all = [];
    const posted: Array<{ path: string; body: any }> = [];
    const fetch = async (url: string, init: RequestInit) => {
      posted.push({ path: new URL(url).pathname, body: JSON.parse(String(init.body)) });
      return new Response(JSON.stringify({ acked: 1 }), { status: 200 });
    };
    const client = createServerClient({ url: "http://station.test", token: "t", WebSocket: FakeSocket as any, fetch: fetch as any });
    let release!: () => void;
    let finished = false;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const consumer = client.consume("s", "g", async () => {
      started();
      await new Promise<void>((r) => (release = r));
      finished = true;
    });
    await until(() => FakeSocket.all.length === 1 && FakeSocket.all[0]!.readyState === 1);
    FakeSocket.all[0]!.push({ type: "messages", messages: [message(7)], credit: 0 });
    await running;
    const stopped = consumer.stop(); // closes the socket; the handler is still running
    setTimeout(() => release(), 20);
    await stopped;
    expect(finished).toBe(true);
    // A message with no epoch was handed out before any seek: its ack names epoch 0.
    expect(posted).toEqual([{ path: "/v1/stations/s/groups/g/ack", body: { offsets: [7], epoch: 0 } }]);
  });
});
