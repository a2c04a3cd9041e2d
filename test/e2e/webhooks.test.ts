// Webhooks end to end: a real `wrangler dev` delivers to real Node receivers on 127.0.0.1 that
// verify every signature with `standardwebhooks` and fail some attempts on purpose. Every
// message arrives, in order for an ordered endpoint, and can be deduplicated by webhook-id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./webhook-receiver";
import { apiClient, type RunningWorker, removeStateDir, sleep, startWorker } from "./wrangler-dev";

let worker: RunningWorker;
let call: ReturnType<typeof apiClient>;
const receivers: Receiver[] = [];

beforeAll(async () => {
  worker = await startWorker();
  call = apiClient(worker);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await worker?.stop();
  if (worker) removeStateDir(worker.stateDir);
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${worker.output().slice(-2000)}`);
    await sleep(50);
  }
}

async function produceAll(station: string, producer: string, count: number, batch: number): Promise<void> {
  for (let seq = 1; seq <= count; seq += batch) {
    const n = Math.min(batch, count - seq + 1);
    const messages = Array.from({ length: n }, (_, i) => ({ seq: seq + i, body: { n: seq + i } }));
    const res = await call("POST", `/v1/stations/${station}/messages`, { producer, messages });
    expect(res.status).toBe(200);
  }
}

describe("webhooks against wrangler dev", () => {
  it("delivers every message in order to an ordered endpoint that fails some attempts (default schedule)", async () => {
    const r = await receiver();
    // Two attempts in ten fail: one with a 500, one with 503 + Retry-After: 1 (never twice in a row).
    r.decide(({ index }) => (index % 10 === 3 ? { status: 500 } : index % 10 === 7 ? { status: 503, headers: { "retry-after": "1" } } : { status: 200 }));
    expect((await call("PUT", "/v1/stations/e2e-ordered", {})).status).toBe(201);
    const put = await call("PUT", "/v1/stations/e2e-ordered/webhooks/sink", { url: r.url });
    expect(put.status).toBe(201);
    r.setSecret(put.body.secret);
    await produceAll("e2e-ordered", "web-1", 30, 3);
    await until(() => r.accepted().length >= 30, 90_000, "30 accepted deliveries");
    expect(r.rejected).toEqual([]);
    expect(r.attempts.length).toBeGreaterThan(30);
    const accepted = r.accepted();
    expect(accepted.map((d) => d.payload.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(accepted.map((d) => d.payload.body.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(accepted.every((d) => d.payload.station === "e2e-ordered" && d.payload.producer === "web-1")).toBe(true);
    expect(r.maxConcurrent).toBe(1);
    // Attempts of one message share its webhook-id; different messages never do.
    const idsByOffset = new Map<number, Set<string>>();
    for (const a of r.attempts) (idsByOffset.get(a.payload.offset) ?? idsByOffset.set(a.payload.offset, new Set()).get(a.payload.offset)!).add(a.webhookId);
    expect([...idsByOffset.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(new Set(accepted.map((d) => d.webhookId)).size).toBe(30);
    const health = await call("GET", "/v1/stations/e2e-ordered/webhooks/sink");
    expect(health.body).toMatchObject({ enabled: true, cursor: { lag: 0, pending: 0, ackFloor: 30 }, health: { delivered: 30, deadLettered: 0 } });
  });

  it("delivers every message to an unordered endpoint and to a fan-out of three, with failures", async () => {
    const wide = await receiver();
    const fans = [await receiver(), await receiver(), await receiver()];
    wide.decide(({ index }) => (index % 5 === 2 ? { status: 502 } : { status: 204 }));
    for (const f of fans) f.decide(({ index }) => (index % 6 === 5 ? { status: 500 } : { status: 200 }));
    expect((await call("PUT", "/v1/stations/e2e-wide", {})).status).toBe(201);
    const retry = { scheduleMs: [50, 100, 200, 400] };
    const w = await call("PUT", "/v1/stations/e2e-wide/webhooks/wide", { url: wide.url, maxInFlight: 4, retry });
    wide.setSecret(w.body.secret);
    for (const [i, f] of fans.entries()) {
      const put = await call("PUT", `/v1/stations/e2e-wide/webhooks/fan-${i}`, { url: f.url, retry });
      expect(put.status).toBe(201);
      f.setSecret(put.body.secret);
    }
    await produceAll("e2e-wide", "web-2", 40, 10);
    await until(() => [wide, ...fans].every((r) => r.accepted().length >= 40), 90_000, "40 accepted deliveries at each receiver");
    for (const r of [wide, ...fans]) {
      expect(r.rejected).toEqual([]);
      expect(r.accepted().map((d) => d.payload.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
    for (const f of fans) expect(f.accepted().map((d) => d.payload.offset)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(wide.maxConcurrent).toBeLessThanOrEqual(4);
    const list = await call("GET", "/v1/stations/e2e-wide/webhooks");
    expect(list.body.webhooks.map((x: any) => x.health.delivered)).toEqual([40, 40, 40, 40]);
  });

  it("dead-letters a message its endpoint keeps refusing, then delivers it on DLS resend", async () => {
    const r = await receiver();
    let refuse = true;
    r.decide(({ payload }) => (refuse && payload.offset === 2 ? { status: 500 } : { status: 200 }));
    expect((await call("PUT", "/v1/stations/e2e-dls", {})).status).toBe(201);
    const put = await call("PUT", "/v1/stations/e2e-dls/webhooks/sink", { url: r.url, retry: { scheduleMs: [20, 20] } });
    r.setSecret(put.body.secret);
    await produceAll("e2e-dls", "web-3", 3, 3);
    await until(() => r.accepted().length >= 2, 30_000, "offsets 1 and 3");
    expect(r.accepted().map((d) => d.payload.offset)).toEqual([1, 3]);
    const dls = await call("GET", "/v1/stations/e2e-dls/dls?group=webhook:sink");
    expect(dls.body.deadLetters).toMatchObject([{ offset: 2, reason: "webhook_failed", group: "webhook:sink", deliveries: 3 }]);
    refuse = false;
    const resend = await call("POST", "/v1/stations/e2e-dls/dls/resend", { all: true, group: "webhook:sink" });
    expect(resend.body.resent).toBe(1);
    await until(() => r.accepted().length >= 3, 30_000, "the resent offset 2");
    expect(r.accepted().map((d) => d.payload.offset)).toEqual([1, 3, 2]);
  });
});
