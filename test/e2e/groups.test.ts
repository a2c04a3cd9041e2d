// Consumer groups against a real `wrangler dev`: fetch/ack/nack shapes, leases, redelivery by
// the real alarm with `deliveries` counting, the DLS after maxDeliveries, independent groups,
// long-poll wake-up, WebSocket push, leases surviving a kill -9 of the runtime, a delayed
// message delivered only after its time (by the alarm, through a restart), and seek replays.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, type RunningWorker, removeStateDir, sleep, startWorker } from "./wrangler-dev";

let worker: RunningWorker;
let call: ReturnType<typeof apiClient>;
let counter = 0;

/** A station with `messages` messages and `groups` created (only PUT creates a group). */
async function station(config: Record<string, unknown> = {}, messages = 0, groups: string[] = ["g"]): Promise<string> {
  const name = `e2e-groups-${Date.now().toString(36)}-${++counter}`;
  expect((await call("PUT", `/v1/stations/${name}`, config)).status).toBe(201);
  for (const group of groups) expect((await call("PUT", `/v1/stations/${name}/groups/${group}`, {})).status).toBe(201);
  if (messages > 0) {
    const res = await call("POST", `/v1/stations/${name}/messages`, { messages: Array.from({ length: messages }, (_, i) => ({ body: { n: i + 1 } })) });
    expect(res.status).toBe(200);
  }
  return name;
}

const offsets = (body: any): number[] => body.messages.map((m: any) => m.offset);

beforeAll(async () => {
  worker = await startWorker();
  call = apiClient(worker);
});

afterAll(async () => {
  await worker?.stop();
  if (worker) removeStateDir(worker.stateDir);
});

describe("groups over wrangler dev", () => {
  it("fetches, acks and nacks with the contract's shapes, one consumer per lease", async () => {
    const s = await station({}, 5);
    // Only PUT creates a group: a fetch from an unknown one is 404 and creates nothing.
    const unknown = await call("POST", `/v1/stations/${s}/groups/unknown/fetch`, { consumer: "a" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("group_not_found");
    const a = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 3, waitMs: 0 });
    expect(a.status).toBe(200);
    expect(offsets(a.body)).toEqual([1, 2, 3]);
    expect(a.body.messages[0]).toMatchObject({ offset: 1, producer: null, seq: null, key: null, headers: {}, body: { n: 1 }, deliveries: 1 });
    expect(typeof a.body.messages[0].producedAt).toBe("number");
    const b = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "b", max: 10, waitMs: 0 });
    expect(offsets(b.body)).toEqual([4, 5]);
    expect((await call("POST", `/v1/stations/${s}/groups/g/ack`, { offsets: [1, 2] })).body).toEqual({ acked: 2 });
    expect((await call("POST", `/v1/stations/${s}/groups/g/ack`, { offsets: [1, 2] })).body).toEqual({ acked: 0 });
    expect((await call("POST", `/v1/stations/${s}/groups/g/nack`, { offsets: [3], delayMs: 0 })).body).toEqual({ nacked: 1 });
    const again = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "c", max: 10, waitMs: 0 });
    expect(again.body.messages.map((m: any) => [m.offset, m.deliveries])).toEqual([[3, 2]]);
    const info = await call("GET", `/v1/stations/${s}`);
    expect(info.body.groups).toEqual([expect.objectContaining({ name: "g", ackFloor: 2, pending: 3, lag: 0 })]);
  });

  it("redelivers by the alarm after ackTimeoutMs, then dead-letters after maxDeliveries", async () => {
    const s = await station({ ackTimeoutMs: 300, maxDeliveries: 2 }, 1);
    const first = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 1 });
    expect(first.body.messages[0].deliveries).toBe(1);
    // Long-poll: the lease runs out, the alarm hands the message out again and wakes us.
    const second = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "b", max: 1, waitMs: 10_000 });
    expect(second.body.messages.map((m: any) => [m.offset, m.deliveries])).toEqual([[1, 2]]);
    await sleep(1_000);
    const dls = await call("GET", `/v1/stations/${s}/dls`);
    expect(dls.body.deadLetters).toEqual([
      expect.objectContaining({ offset: 1, group: "g", reason: "max_deliveries", deliveries: 2, message: expect.objectContaining({ body: { n: 1 } }) }),
    ]);
    const resent = await call("POST", `/v1/stations/${s}/dls/resend`, { ids: [dls.body.deadLetters[0].id] });
    expect(resent.body.resent).toBe(1);
    const back = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "c", max: 1 });
    expect(back.body.messages.map((m: any) => [m.offset, m.deliveries])).toEqual([[1, 1]]);
  });

  it("keeps groups independent", async () => {
    const s = await station({}, 3, ["one", "two"]);
    for (const group of ["one", "two"]) {
      const res = await call("POST", `/v1/stations/${s}/groups/${group}/fetch`, { consumer: "x", max: 10 });
      expect(offsets(res.body)).toEqual([1, 2, 3]);
    }
  });

  it("wakes a long-poll as soon as a message is produced", async () => {
    const s = await station();
    const started = Date.now();
    const waiting = call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 10, waitMs: 20_000 });
    await sleep(200);
    const producedAt = Date.now();
    await call("POST", `/v1/stations/${s}/messages`, { messages: [{ body: "ping" }] });
    const res = await waiting;
    expect(res.body.messages.map((m: any) => m.body)).toEqual(["ping"]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(Date.now() - producedAt).toBeLessThan(5_000);
  });

  it("pushes over a WebSocket up to the credit and takes acks on it", async () => {
    const s = await station({}, 3);
    const socket = new WebSocket(`${worker.url.replace("http", "ws")}/v1/stations/${s}/groups/g/subscribe?consumer=ws&credit=2`, {
      headers: { authorization: `Bearer ${worker.token}` },
    } as any);
    const frames: any[] = [];
    const next = async (type: string) => {
      for (let i = 0; i < 100; i++) {
        const index = frames.findIndex((f) => f.type === type);
        if (index >= 0) return frames.splice(index, 1)[0];
        await sleep(50);
      }
      throw new Error(`no ${type} frame: ${JSON.stringify(frames)}`);
    };
    socket.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve);
      socket.addEventListener("error", reject);
    });
    expect(offsets(await next("messages"))).toEqual([1, 2]);
    socket.send(JSON.stringify({ type: "ack", offsets: [1, 2] }));
    expect(await next("acked")).toEqual({ type: "acked", acked: 2 });
    socket.send(JSON.stringify({ type: "credit", n: 5 }));
    expect(offsets(await next("messages"))).toEqual([3]);
    socket.close();
  });

  it("keeps leases and cursors through a kill -9 of the runtime", async () => {
    const s = await station({ ackTimeoutMs: 60_000 }, 4);
    expect(offsets((await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 2 })).body)).toEqual([1, 2]);
    await worker.kill();
    worker = await startWorker({ stateDir: worker.stateDir });
    call = apiClient(worker);
    expect(offsets((await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "b", max: 10 })).body)).toEqual([3, 4]);
    expect((await call("POST", `/v1/stations/${s}/groups/g/ack`, { offsets: [1, 2, 3, 4] })).body).toEqual({ acked: 4 });
  });

  it("delivers a delayed message only after its time, woken by the alarm, through a kill -9", async () => {
    const s = await station();
    const produced = await call("POST", `/v1/stations/${s}/messages`, { messages: [{ body: "later", delayMs: 2500 }, { body: "now" }] });
    expect(produced.body.results.map((r: any) => r.offset)).toEqual([1, 2]);
    const first = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 10 });
    expect(offsets(first.body)).toEqual([2]);
    const replay = await call("GET", `/v1/stations/${s}/messages?from=1`);
    const visibleAt = replay.body.messages[0].visibleAt as number;
    expect(visibleAt).toBe(replay.body.messages[0].producedAt + 2500);
    expect((await call("GET", `/v1/stations/${s}`)).body.stats.delayed).toBe(1);
    await worker.kill();
    worker = await startWorker({ stateDir: worker.stateDir });
    call = apiClient(worker);
    // A long-poll that nothing but the alarm at visibleAt can answer.
    const waited = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 10, waitMs: 20_000 });
    expect(offsets(waited.body)).toEqual([1]);
    expect(waited.body.messages[0]).toMatchObject({ body: "later", deliveries: 1, visibleAt });
    expect(Date.now()).toBeGreaterThanOrEqual(visibleAt);
    expect((await call("GET", `/v1/stations/${s}`)).body.stats.delayed).toBe(0);
  });

  it("replays by a seek to a time, dropping the leases in flight", async () => {
    const s = await station({}, 3);
    await sleep(30);
    const since = Date.now();
    await sleep(30);
    await call("POST", `/v1/stations/${s}/messages`, { messages: [{ body: "x" }, { body: "y" }] });
    const all = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "a", max: 10 });
    expect(offsets(all.body)).toEqual([1, 2, 3, 4, 5]);
    await call("POST", `/v1/stations/${s}/groups/g/ack`, { offsets: [1, 2, 3] });
    const moved = await call("POST", `/v1/stations/${s}/groups/g/seek`, { to: { time: since } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ nextOffset: 4, ackFloor: 3, pending: 0, lag: 2, dropped: 2, epoch: 1 });
    // The dropped leases' late acks count for nothing; the replay hands 4 and 5 out afresh.
    expect((await call("POST", `/v1/stations/${s}/groups/g/ack`, { offsets: [4, 5] })).body).toEqual({ acked: 0 });
    const replayed = await call("POST", `/v1/stations/${s}/groups/g/fetch`, { consumer: "b", max: 10 });
    expect(replayed.body.messages.map((m: any) => [m.offset, m.deliveries, m.epoch])).toEqual([[4, 1, 1], [5, 1, 1]]);
    const earliest = await call("POST", `/v1/stations/${s}/groups/g/seek`, { to: "earliest" });
    expect(earliest.body).toMatchObject({ nextOffset: 1, ackFloor: 0, lag: 5, dropped: 2, epoch: 2 });
    const bad = await call("POST", `/v1/stations/${s}/groups/g/seek`, { to: { offset: 99 } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("invalid_request");
  });
});
