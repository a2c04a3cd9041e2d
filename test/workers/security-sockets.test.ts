// Open sockets stay within their token (issue 14, items 1, 5, 6): a subscribe or doc socket is
// closed with 4001 once its token's exp passes and with 4003 once the signing key is rotated,
// and the frames it sends after that are not obeyed; frames count against the token's rate and
// a socket that keeps flooding is closed with 1008; the awareness a station keeps is bounded,
// goes with its socket and expires when not renewed.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  AWARENESS_EXPIRE_MS,
  MAX_AWARENESS_STATES,
  MAX_STATION_AWARENESS_STATES,
} from "../../shared/doc-socket";
import { SocketCloseCode } from "../../shared/websocket-auth";
import { createDocStation } from "./docs-helpers";
import { groupInfo, stationWith } from "./groups-helpers";
import { ADMIN_TOKEN, api, produce } from "./helpers";
import { closeOf, inStation, openSocket, sleep, stationObject, type TestSocket } from "./security-helpers";
import { grantToken } from "./token-helpers";

/** A token of `station` that expires about `seconds` from now, and when exactly (ms). */
async function shortToken(station: string, actions: string[], seconds: number): Promise<{ token: string; expiresAtMs: number }> {
  const token = await grantToken([station], actions, { expiresIn: seconds });
  const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
  return { token, expiresAtMs: payload.exp * 1000 };
}

/** A station holding `count` messages, with group `g` (only the manage right creates groups). */
async function stationWithGroup(count: number): Promise<string> {
  const station = await stationWith(count);
  expect((await api("PUT", `/v1/stations/${station}/groups/g`, {})).status).toBe(201);
  return station;
}

async function untilPast(ms: number): Promise<void> {
  const left = ms - Date.now();
  if (left >= 0) await sleep(left + 50);
}

/** Replaces the station object's TOKEN_SIGNING_KEY (as a deploy with a rotated secret does) while `work` runs. */
async function withRotatedKey(station: string, work: () => Promise<void>): Promise<void> {
  let before: string | undefined;
  await inStation(station, (instance) => {
    before = instance.env.TOKEN_SIGNING_KEY;
    instance.env.TOKEN_SIGNING_KEY = "rotated-signing-key-0123456789-abcdefghijkl";
  });
  try {
    await work();
  } finally {
    await inStation(station, (instance) => {
      instance.env.TOKEN_SIGNING_KEY = before;
    });
  }
}

const subscribePath = (station: string, query = "?consumer=c&credit=3") => `/v1/stations/${station}/groups/g/subscribe${query}`;
const docPath = (station: string) => `/v1/stations/${station}/doc/subscribe`;

describe("subscribe sockets and their token", () => {
  it("closes an expired token's socket with 4001 and does not obey its ack", async () => {
    const station = await stationWithGroup(3);
    const { token, expiresAtMs } = await shortToken(station, ["consume"], 2);
    const sub = await openSocket(subscribePath(station), token);
    expect((await sub.next("messages")).messages).toHaveLength(3);
    await untilPast(expiresAtMs);
    sub.send({ type: "ack", offsets: [1, 2, 3], ref: "late" });
    expect((await closeOf(sub)).code).toBe(SocketCloseCode.TokenExpired);
    expect(sub.frames.filter((f) => f.type === "acked")).toEqual([]);
    const info = await groupInfo(station, "g");
    expect(info.acked).toBe(0);
    expect(info.pending).toBe(3);
  });

  it("pushes nothing to an expired socket", async () => {
    const station = await stationWithGroup(0);
    const { token, expiresAtMs } = await shortToken(station, ["consume"], 2);
    const waiting = await openSocket(subscribePath(station, "?consumer=w&credit=10"), token);
    await waiting.next("subscribed");
    await untilPast(expiresAtMs);
    expect((await produce(station, { messages: [{ body: { secret: 1 } }] })).status).toBe(200);
    expect((await closeOf(waiting)).code).toBe(SocketCloseCode.TokenExpired);
    expect(waiting.frames.filter((f) => f.type === "messages")).toEqual([]);
    // Nobody got the message: it is still there for the group.
    const info = await groupInfo(station, "g");
    expect(info.pending).toBe(0);
    expect(info.lag).toBe(1);
  });

  it("closes a quiet socket at its token's expiry through the alarm", async () => {
    const station = await stationWithGroup(0);
    const { token, expiresAtMs } = await shortToken(station, ["consume"], 2);
    const quiet = await openSocket(subscribePath(station, "?consumer=q&credit=0"), token);
    await quiet.next("subscribed");
    await untilPast(expiresAtMs);
    // The alarm set for the expiry may have fired already; if not, it fires now.
    await runDurableObjectAlarm(stationObject(station));
    expect((await closeOf(quiet)).code).toBe(SocketCloseCode.TokenExpired);
  });

  it("refuses to open a socket for a token that is past its exp but within the clock skew", async () => {
    const station = await stationWithGroup(0);
    const token = await grantToken([station], ["consume"], { expiresIn: -5 });
    const res: Response = await (await import("cloudflare:workers") as any).exports.default.fetch(
      new Request(`https://waystation.test${subscribePath(station)}`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.reason).toBe("token_expired");
  });

  it("closes a socket with 4003 once the signing key is rotated, without obeying its frames", async () => {
    const station = await stationWithGroup(2);
    const token = await grantToken([station], ["consume"]);
    const sub = await openSocket(subscribePath(station, "?consumer=r&credit=2"), token);
    expect((await sub.next("messages")).messages).toHaveLength(2);
    await withRotatedKey(station, async () => {
      sub.send({ type: "ack", offsets: [1, 2] });
      expect((await closeOf(sub)).code).toBe(SocketCloseCode.TokenRevoked);
    });
    expect(sub.frames.filter((f) => f.type === "acked")).toEqual([]);
    expect((await groupInfo(station, "g")).acked).toBe(0);
  });

  it("closes on rotation at the alarm and before a push, for admin-key and scoped sockets alike", async () => {
    const station = await stationWithGroup(0);
    const token = await grantToken([station], ["consume"]);
    const scoped = await openSocket(subscribePath(station, "?consumer=s&credit=5"), token);
    await scoped.next("subscribed");
    await withRotatedKey(station, async () => {
      expect((await produce(station, { messages: [{ body: { n: 1 } }] })).status).toBe(200);
      expect((await closeOf(scoped)).code).toBe(SocketCloseCode.TokenRevoked);
      expect(scoped.frames.filter((f) => f.type === "messages")).toEqual([]);
    });
    const admin = await openSocket(subscribePath(station, "?consumer=a&credit=5"), ADMIN_TOKEN);
    expect((await admin.next("messages")).messages).toHaveLength(1);
    await inStation(station, (instance) => {
      instance.env.ADMIN_TOKEN_BEFORE = instance.env.ADMIN_TOKEN;
      instance.env.ADMIN_TOKEN = "rotated-admin-token-0123456789";
    });
    try {
      admin.send({ type: "ack", offsets: [1] });
      expect((await closeOf(admin)).code).toBe(SocketCloseCode.TokenRevoked);
    } finally {
      await inStation(station, (instance) => {
        instance.env.ADMIN_TOKEN = instance.env.ADMIN_TOKEN_BEFORE;
      });
    }
    expect((await groupInfo(station, "g")).acked).toBe(0);
  });
});

describe("doc sockets and their token", () => {
  it("closes an expired token's doc socket with 4001 and relays nothing it sends after", async () => {
    const station = await createDocStation();
    const { token, expiresAtMs } = await shortToken(station, ["consume"], 2);
    const expiring = await openSocket(docPath(station), token);
    const watcher = await openSocket(docPath(station), ADMIN_TOKEN);
    await expiring.next("hello");
    await watcher.next("hello");
    expiring.send({ type: "awareness", states: [{ clientID: 7, clock: 1, state: { name: "before" } }] });
    expect((await watcher.next("awareness")).states[0].state).toEqual({ name: "before" });
    await untilPast(expiresAtMs);
    expiring.send({ type: "awareness", states: [{ clientID: 7, clock: 2, state: { name: "after" } }] });
    expect((await closeOf(expiring)).code).toBe(SocketCloseCode.TokenExpired);
    // The watcher hears only that client 7 is gone, never the frame sent after expiry.
    const gone = await watcher.next("awareness");
    expect(gone.states).toEqual([{ clientID: 7, clock: 2, state: null }]);
    await sleep(50);
    expect(watcher.frames.filter((f) => f.type === "awareness")).toEqual([]);
    watcher.socket.close();
  });

  it("closes a doc socket with 4003 once the signing key is rotated", async () => {
    const station = await createDocStation();
    const token = await grantToken([station], ["consume"]);
    const doc = await openSocket(docPath(station), token);
    await doc.next("hello");
    await withRotatedKey(station, async () => {
      doc.send({ type: "awareness", states: [{ clientID: 9, clock: 1, state: {} }] });
      expect((await closeOf(doc)).code).toBe(SocketCloseCode.TokenRevoked);
    });
  });
});

describe("frame rates", () => {
  it("rate-limits a 1 req/s token's ack frames and closes the socket with 1008 when it keeps going", { timeout: 30_000 }, async () => {
    const station = await stationWithGroup(300);
    const token = await grantToken([station], ["consume"], { claims: { limits: { requestsPerSecond: 1 } } });
    const sub = await openSocket(subscribePath(station, "?consumer=f&credit=300"), token);
    const pushed = await sub.next("messages");
    expect(pushed.messages.length).toBeGreaterThan(0);
    const startedAt = Date.now();
    for (let i = 1; i <= 300; i++) sub.send({ type: "ack", offsets: [i], ref: `a${i}` });
    expect((await closeOf(sub, 20_000)).code).toBe(SocketCloseCode.PolicyViolation);
    // A burst of 2 (two seconds of 1/s), then one a second at most while the flood lasted.
    const allowed = 2 + Math.ceil((Date.now() - startedAt) / 1000);
    const acked = sub.frames.filter((f) => f.type === "acked");
    const limited = sub.frames.filter((f) => f.type === "error" && f.error.code === "rate_limited");
    expect(acked.length).toBeLessThanOrEqual(allowed);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].error).toMatchObject({ scope: "token" });
    expect(limited[0].ref).toMatch(/^a\d+$/);
    expect((await groupInfo(station, "g")).acked).toBeLessThanOrEqual(allowed);
  });

  it("keeps a well-behaved socket open: refused frames are answered, not punished", async () => {
    const station = await stationWithGroup(10);
    const token = await grantToken([station], ["consume"], { claims: { limits: { requestsPerSecond: 1 } } });
    const sub = await openSocket(subscribePath(station, "?consumer=w&credit=10"), token);
    await sub.next("messages");
    for (let i = 1; i <= 5; i++) sub.send({ type: "ack", offsets: [i], ref: `b${i}` });
    const refused = await sub.next("error");
    expect(refused.error).toMatchObject({ code: "rate_limited", scope: "token" });
    expect(refused.error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await sleep(300);
    expect(sub.isClosed()).toBe(false);
    sub.socket.close();
  });
});

describe("awareness memory", () => {
  async function awarenessOf(station: string): Promise<{ total: number; perSocket: number[] }> {
    return inStation(station, (instance) => ({
      total: instance.docSockets.awarenessSize,
      perSocket: [...instance.docSockets.awareness.values()].map((m: Map<number, unknown>) => m.size),
    }));
  }

  it("holds at most MAX_STATION_AWARENESS_STATES, refusing the clients beyond", { timeout: 60_000 }, async () => {
    const station = await createDocStation();
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 70; i++) sockets.push(await openSocket(docPath(station), ADMIN_TOKEN, false));
    let clientID = 1;
    for (const socket of sockets) {
      socket.send({ type: "awareness", states: Array.from({ length: MAX_AWARENESS_STATES }, () => ({ clientID: clientID++, clock: 1, state: {} })) });
      await sleep(5);
    }
    // The object works through 70 frames, each relayed to 69 sockets: wait until it is done.
    const expectedRefusals = 70 * MAX_AWARENESS_STATES - MAX_STATION_AWARENESS_STATES;
    const countRefusals = () => sockets.flatMap((s) => s.frames.filter((f) => f.type === "error")).flatMap((f) => f.error.refused ?? []).length;
    for (let i = 0; i < 100 && countRefusals() < expectedRefusals; i++) await sleep(100);
    const held = await awarenessOf(station);
    expect(held.total).toBe(MAX_STATION_AWARENESS_STATES);
    for (const size of held.perSocket) expect(size).toBeLessThanOrEqual(MAX_AWARENESS_STATES);
    expect(countRefusals()).toBe(expectedRefusals);
    for (const socket of sockets) socket.socket.close();
    await sleep(500);
    expect((await awarenessOf(station)).total).toBe(0);
  });

  it("stays bounded under 10,000 hostile awareness frames, refusing the flood, and empties when the sockets close", { timeout: 90_000 }, async () => {
    const station = await createDocStation();
    const sockets: Array<TestSocket & { received(): number }> = [];
    for (let i = 0; i < 4; i++) sockets.push(await openSocket(docPath(station), ADMIN_TOKEN, false));
    let clientID = 1;
    let frames = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 250; i++) {
        for (const socket of sockets) {
          socket.send({ type: "awareness", states: Array.from({ length: MAX_AWARENESS_STATES }, () => ({ clientID: clientID++, clock: 1, state: { pad: "x".repeat(100) } })) });
          frames += 1;
        }
      }
      await sleep(50);
      const during = await awarenessOf(station);
      expect(during.total).toBeLessThanOrEqual(MAX_STATION_AWARENESS_STATES);
      expect(during.perSocket.length).toBeLessThanOrEqual(sockets.length);
      for (const size of during.perSocket) expect(size).toBeLessThanOrEqual(MAX_AWARENESS_STATES);
    }
    expect(frames).toBe(10_000);
    // The flooders were told to wait, and closed with 1008 when they went on.
    for (const socket of sockets) {
      expect((await closeOf(socket, 20_000)).code).toBe(SocketCloseCode.PolicyViolation);
      expect(socket.frames.filter((f) => f.type === "error" && f.error.code === "rate_limited").length).toBeGreaterThan(0);
    }
    await sleep(300);
    expect((await awarenessOf(station)).total).toBe(0);
    const newcomer = await openSocket(docPath(station), ADMIN_TOKEN);
    await newcomer.next("hello");
    await sleep(50);
    expect(newcomer.frames.filter((f) => f.type === "awareness").flatMap((f) => f.states).filter((s: any) => s.state !== null)).toEqual([]);
    newcomer.socket.close();
  });

  it("drops states not renewed within 30 s and keeps another socket's client out of reach", async () => {
    expect(AWARENESS_EXPIRE_MS).toBe(30_000);
    const station = await createDocStation();
    const a = await openSocket(docPath(station), ADMIN_TOKEN);
    const b = await openSocket(docPath(station), ADMIN_TOKEN);
    a.send({ type: "awareness", states: [{ clientID: 5, clock: 1, state: { name: "a" } }] });
    expect((await b.next("awareness")).states).toEqual([{ clientID: 5, clock: 1, state: { name: "a" } }]);
    // b cannot speak for a's client.
    b.send({ type: "awareness", states: [{ clientID: 5, clock: 9, state: { name: "mallory" } }] });
    expect((await b.next("error")).error.refused).toEqual([{ clientID: 5, why: "another socket speaks for it" }]);
    expect((await awarenessOf(station)).total).toBe(1);
    // Age a's state past the expiry: the next sweep (a newcomer's greeting) drops it.
    await inStation(station, (instance) => {
      for (const mine of instance.docSockets.awareness.values()) for (const kept of mine.values()) kept.renewedAt -= AWARENESS_EXPIRE_MS + 1000;
    });
    const c = await openSocket(docPath(station), ADMIN_TOKEN);
    await c.next("hello");
    await sleep(50);
    expect(c.frames.filter((f) => f.type === "awareness")).toEqual([]);
    expect((await awarenessOf(station)).total).toBe(0);
    for (const s of [a, b, c]) s.socket.close();
  });
});
