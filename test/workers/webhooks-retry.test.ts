// Webhook failures: the retry schedule (stable webhook-id, fresh timestamp), Retry-After on
// 429/503, 410 disabling, redirects not followed, timeouts, the DLS after the last attempt
// (and resend from it), disabling after persistent failure, re-enabling, and attempts that
// survive the object being evicted.
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { api, createStation, produce } from "./helpers";
import { getWebhook, headersOf, mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";

const URL_A = "http://receiver.test/a";
/** runInDurableObject without its deep generic types (the Station stub's RPC types are large). */
const runInObject = runInDurableObject as unknown as (stub: unknown, fn: (instance: any) => unknown) => Promise<unknown>;
const fail = (status: number, headers: Record<string, string> = {}) => new Response("no", { status, headers });
const okResponse = () => new Response(null, { status: 204 });

vi.setConfig({ testTimeout: 30_000 });

let receiver: Receiver;
beforeEach(() => {
  receiver = mockReceiver();
});
afterEach(() => receiver.restore());

describe("retries", () => {
  it("retries on the endpoint's schedule with the same webhook-id and a signature valid at each attempt", async () => {
    const station = await createStation();
    const put = await putWebhook(station, "r", { url: URL_A, retry: { scheduleMs: [100, 300] } });
    receiver.reply((_, i) => (i < 2 ? fail(500) : okResponse()));
    await produce(station, { messages: [{ body: "x" }] });
    await waitFor(() => receiver.calls.length >= 3, 10_000, "three attempts");
    const [a, b, c] = receiver.calls as [any, any, any];
    expect(new Set([a, b, c].map((call) => call.headers["webhook-id"])).size).toBe(1);
    expect([a, b, c].map((call) => call.json.deliveries)).toEqual([1, 2, 3]);
    const verifier = new Webhook(put.body.secret);
    for (const call of [a, b, c]) expect(verifier.verify(call.body, headersOf(call))).toMatchObject({ body: "x" });
    // Jitter only ever stretches a delay (by up to 20 %).
    expect(b.at - a.at).toBeGreaterThanOrEqual(100);
    expect(c.at - b.at).toBeGreaterThanOrEqual(300);
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "r");
      return w.health.delivered === 1 && w;
    });
    expect(info.health).toMatchObject({ consecutiveFailures: 0, lastStatus: 204, failingSince: null });
    expect(info.recent.map((r: any) => [r.attempt, r.status, r.outcome])).toEqual([
      [3, 204, "delivered"],
      [2, 500, "retrying"],
      [1, 500, "retrying"],
    ]);
  });

  it("sends a message to the DLS as webhook_failed after its last attempt and moves on to the next", async () => {
    const station = await createStation();
    await putWebhook(station, "dead", { url: URL_A, retry: { scheduleMs: [20, 20] } });
    receiver.reply((call) => (call.json.offset === 1 ? fail(500) : okResponse()));
    await produce(station, { producer: "p", messages: [{ seq: 1, body: { n: 1 } }, { seq: 2, body: { n: 2 } }] });
    await waitFor(() => receiver.calls.some((c) => c.json.offset === 2), 10_000, "offset 2 after offset 1 gave up");
    expect(receiver.calls.map((c) => c.json.offset)).toEqual([1, 1, 1, 2]);
    const dls = await api("GET", `/v1/stations/${station}/dls?reason=webhook_failed`);
    expect(dls.status).toBe(200);
    expect(dls.body.deadLetters).toHaveLength(1);
    expect(dls.body.deadLetters[0]).toMatchObject({
      offset: 1,
      group: "webhook:dead",
      reason: "webhook_failed",
      deliveries: 3,
      message: { offset: 1, producer: "p", seq: 1, body: { n: 1 } },
      detail: { webhook: "dead", status: 500 },
    });
    const info = await getWebhook(station, "dead");
    expect(info.health.deadLettered).toBe(1);
    expect(info.recent.find((r: any) => r.offset === 1 && r.attempt === 3).outcome).toBe("dead_lettered");
    const stationInfo = await api("GET", `/v1/stations/${station}`);
    expect(stationInfo.body.groups).toContainEqual(expect.objectContaining({ name: "webhook:dead", deadLetters: 1 }));
  });

  it("puts a resent webhook_failed dead letter back into its endpoint's queue", async () => {
    const station = await createStation();
    await putWebhook(station, "back", { url: URL_A, retry: { scheduleMs: [] } });
    receiver.reply(() => fail(500));
    await produce(station, { messages: [{ body: "again" }] });
    const letter = await waitFor(async () => (await api("GET", `/v1/stations/${station}/dls`)).body.deadLetters[0], 10_000, "a dead letter");
    const firstId = receiver.calls[0]!.headers["webhook-id"];
    receiver.reply(() => okResponse());
    const resend = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [letter.id] });
    expect(resend.body).toMatchObject({ resent: 1, refused: [] });
    await waitFor(() => receiver.calls.length >= 2, 10_000, "the resent delivery");
    expect(receiver.calls[1]!.json).toMatchObject({ offset: 1, body: "again", deliveries: 1 });
    expect(receiver.calls[1]!.headers["webhook-id"]).toBe(firstId);
    expect((await api("GET", `/v1/stations/${station}/dls`)).body.deadLetters).toEqual([]);
  });

  it("honours Retry-After on 429 and 503 instead of the schedule", async () => {
    const station = await createStation();
    await putWebhook(station, "slow", { url: URL_A, retry: { scheduleMs: [10, 10, 10] } });
    receiver.reply((_, i) => (i === 0 ? fail(429, { "retry-after": "1" }) : i === 1 ? fail(503, { "retry-after": "1" }) : okResponse()));
    await produce(station, { messages: [{ body: 1 }] });
    await waitFor(() => receiver.calls.length >= 3, 10_000, "three attempts");
    const [a, b, c] = receiver.calls as [any, any, any];
    expect(b.at - a.at).toBeGreaterThanOrEqual(1000);
    expect(c.at - b.at).toBeGreaterThanOrEqual(1000);
  });

  it("ignores Retry-After on other statuses", async () => {
    const station = await createStation();
    await putWebhook(station, "plain", { url: URL_A, retry: { scheduleMs: [10] } });
    receiver.reply((_, i) => (i === 0 ? fail(500, { "retry-after": "3600" }) : okResponse()));
    await produce(station, { messages: [{ body: 1 }] });
    await waitFor(() => receiver.calls.length >= 2, 5_000, "the retry within the schedule, not an hour");
  });

  it("disables the endpoint on 410 Gone, keeps the message, and delivers it once re-enabled", async () => {
    const station = await createStation();
    await putWebhook(station, "gone", { url: URL_A, retry: { scheduleMs: [10, 10] } });
    receiver.reply(() => fail(410));
    await produce(station, { messages: [{ body: 1 }, { body: 2 }] });
    const disabled = await waitFor(async () => {
      const w = await getWebhook(station, "gone");
      return !w.enabled && w;
    });
    expect(disabled).toMatchObject({ disabledReason: "gone", health: { lastStatus: 410 }, cursor: { pending: 1 } });
    expect(disabled.recent[0].outcome).toBe("disabled");
    expect(receiver.calls).toHaveLength(1);
    receiver.reply(() => okResponse());
    const enabled = await putWebhook(station, "gone", { url: URL_A, retry: { scheduleMs: [10, 10] }, enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, health: { consecutiveFailures: 0 } });
    await waitFor(() => receiver.calls.length >= 3, 10_000, "both messages after re-enabling");
    expect(receiver.calls.map((c) => c.json.offset)).toEqual([1, 1, 2]);
    expect((await api("GET", `/v1/stations/${station}/dls`)).body.deadLetters).toEqual([]);
  });

  it("does not follow redirects: a 3xx is a failure", async () => {
    const station = await createStation();
    await putWebhook(station, "moved", { url: URL_A, retry: { scheduleMs: [10] } });
    receiver.reply(() => new Response(null, { status: 302, headers: { location: "http://elsewhere.test/" } }));
    await produce(station, { messages: [{ body: 1 }] });
    await waitFor(async () => (await getWebhook(station, "moved")).health.deadLettered === 1, 10_000, "the dead letter");
    expect(receiver.calls.map((c) => [c.url, c.redirect])).toEqual([
      [URL_A, "manual"],
      [URL_A, "manual"],
    ]);
    const info = await getWebhook(station, "moved");
    expect(info.health.lastStatus).toBe(302);
    // Coarse on purpose: where the endpoint tried to send us is not recorded (no probe of other hosts).
    expect(info.health.lastError).toBe("redirect not followed");
    expect(JSON.stringify(info)).not.toContain("elsewhere.test");
  });

  it("fails an attempt that gets no answer within timeoutMs", async () => {
    const station = await createStation();
    await putWebhook(station, "hang", { url: URL_A, timeoutMs: 200, retry: { scheduleMs: [10] } });
    receiver.reply((_, i) => (i === 0 ? new Promise<Response>(() => {}) : okResponse()));
    await produce(station, { messages: [{ body: 1 }] });
    await waitFor(() => receiver.calls.length >= 2, 10_000, "the retry after the timeout");
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "hang");
      return w.health.delivered === 1 && w;
    });
    const timedOut = info.recent.find((r: any) => r.attempt === 1);
    expect(timedOut).toMatchObject({ status: null, outcome: "retrying" });
    expect(timedOut.error).toBe("timeout");
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(150);
  });

  it("counts network errors as failures", async () => {
    const station = await createStation();
    await putWebhook(station, "net", { url: URL_A, retry: { scheduleMs: [10] } });
    receiver.reply((_, i) => (i === 0 ? Promise.reject(new TypeError("connection refused")) : okResponse()));
    await produce(station, { messages: [{ body: 1 }] });
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "net");
      return w.health.delivered === 1 && w;
    });
    expect(info.recent[1]).toMatchObject({ status: null, error: "connection failed", outcome: "retrying" });
  });

  it("records only coarse errors in health, recent attempts and the dead letter: no exception text, no answer body", async () => {
    const station = await createStation();
    await putWebhook(station, "oracle", { url: URL_A, retry: { scheduleMs: [10, 10] } });
    const detail = "connect ECONNREFUSED 10.0.0.5:6379 redis-master.internal";
    receiver.reply((_, i) => (i === 1 ? new Response(`upstream ${detail}`, { status: 502 }) : Promise.reject(new TypeError(detail))));
    await produce(station, { messages: [{ body: 1 }] });
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "oracle");
      return w.health.deadLettered === 1 && w;
    }, 10_000, "the dead letter");
    expect(info.health).toMatchObject({ lastStatus: null, lastError: "connection failed" });
    expect(info.recent.map((r: any) => r.error)).toEqual(["connection failed", "http 5xx", "connection failed"]);
    const dls = (await api("GET", `/v1/stations/${station}/dls`)).body.deadLetters;
    expect(dls[0].detail).toMatchObject({ status: null, error: "connection failed" });
    for (const text of [JSON.stringify(info), JSON.stringify(dls)]) {
      expect(text).not.toContain("ECONNREFUSED");
      expect(text).not.toContain("redis-master");
    }
  });

  it("disables an endpoint that fails for disableAfterMs without a success", async () => {
    const station = await createStation();
    await putWebhook(station, "flaky", { url: URL_A, disableAfterMs: 150, retry: { scheduleMs: [50, 50, 50, 50, 50, 50, 50, 50] } });
    receiver.reply(() => fail(500));
    await produce(station, { messages: [{ body: 1 }] });
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "flaky");
      return !w.enabled && w;
    });
    expect(info.disabledReason).toBe("failing");
    expect(info.health.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(info.cursor.pending).toBe(1);
    const calls = receiver.calls.length;
    await produce(station, { messages: [{ body: 2 }] });
    const after = await getWebhook(station, "flaky");
    expect(after.cursor.lag).toBe(1);
    expect(receiver.calls.length).toBe(calls);
  });

  it("retries one endpoint on time while another endpoint's attempt hangs", async () => {
    const station = await createStation();
    await putWebhook(station, "stuck", { url: "http://receiver.test/stuck", timeoutMs: 20_000 });
    await putWebhook(station, "quick", { url: URL_A, retry: { scheduleMs: [50] } });
    let quickCalls = 0;
    receiver.reply((call) => {
      if (call.url.endsWith("/stuck")) return new Promise<Response>(() => {});
      quickCalls += 1;
      return quickCalls === 1 ? fail(500) : okResponse();
    });
    await produce(station, { messages: [{ body: 1 }] });
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "quick");
      return w.health.delivered === 1 && w;
    }, 10_000, "the quick endpoint's retry");
    expect(info.recent.map((r: any) => r.outcome)).toEqual(["delivered", "retrying"]);
    expect((await getWebhook(station, "stuck")).cursor.inFlight).toBe(1);
  });

  it("tries an attempt again after its lease when the object went away mid-attempt", async () => {
    const station = await createStation();
    await putWebhook(station, "lost", { url: URL_A, timeoutMs: 100 });
    receiver.reply((_, i) => (i === 0 ? new Promise<Response>(() => {}) : okResponse()));
    await produce(station, { messages: [{ body: "lost once" }] });
    await waitFor(() => receiver.calls.length >= 1, 10_000, "the first attempt");
    const namespace = (env as unknown as { STATION: DurableObjectNamespace }).STATION;
    const stub = namespace.get(namespace.idFromName(station));
    await evictDurableObject(stub);
    // However the first attempt ended (recorded as a failure, or lost with the object and brought
    // back when its lease ran out), the message is tried again with the same webhook-id.
    await waitFor(async () => {
      await runDurableObjectAlarm(stub);
      return receiver.calls.length >= 2;
    }, 15_000, "the attempt after the lease");
    expect(receiver.calls[1]!.json).toMatchObject({ body: "lost once", deliveries: 2 });
    expect(receiver.calls[1]!.headers["webhook-id"]).toBe(receiver.calls[0]!.headers["webhook-id"]);
  });

  it("brings back an attempt whose outcome was lost, once its lease (timeout + 5 s) runs out", async () => {
    const station = await createStation();
    await putWebhook(station, "leased", { url: URL_A, timeoutMs: 100 });
    receiver.reply((_, i) => (i === 0 ? new Promise<Response>(() => {}) : okResponse()));
    await produce(station, { messages: [{ body: "leased" }] });
    await waitFor(() => receiver.calls.length >= 1, 10_000, "the first attempt");
    const namespace = (env as unknown as { STATION: DurableObjectNamespace }).STATION;
    const stub = namespace.get(namespace.idFromName(station));
    // Forget the attempt in flight, as a restart would: only its lease in storage remains.
    await runInObject(stub, (instance) => instance.webhooks.reset());
    const info = await getWebhook(station, "leased");
    expect(info.cursor).toMatchObject({ pending: 1, inFlight: 0 });
    expect(info.cursor.nextAttemptAt).toBeGreaterThan(receiver.calls[0]!.at + 5000);
    await waitFor(async () => {
      await runDurableObjectAlarm(stub);
      return receiver.calls.length >= 2;
    }, 15_000, "the attempt after the lease");
    expect(receiver.calls[1]!.at - receiver.calls[0]!.at).toBeGreaterThanOrEqual(5000);
    expect(receiver.calls[1]!.json).toMatchObject({ body: "leased", deliveries: 2 });
    const after = await waitFor(async () => {
      const w = await getWebhook(station, "leased");
      return w.health.delivered === 1 && w;
    });
    expect(after.recent.map((r: any) => [r.attempt, r.outcome])).toEqual([[2, "delivered"]]);
  });

  it("keeps retrying after the object is evicted between attempts", async () => {
    const station = await createStation();
    await putWebhook(station, "durable", { url: URL_A, retry: { scheduleMs: [200] } });
    receiver.reply((_, i) => (i === 0 ? fail(500) : okResponse()));
    await produce(station, { messages: [{ body: "kept" }] });
    await waitFor(() => receiver.calls.length >= 1, 10_000, "the first attempt");
    await waitFor(async () => (await getWebhook(station, "durable")).health.consecutiveFailures === 1, 10_000, "the failure recorded");
    const namespace = (env as unknown as { STATION: DurableObjectNamespace }).STATION;
    const stub = namespace.get(namespace.idFromName(station));
    await evictDurableObject(stub);
    await waitFor(async () => {
      await runDurableObjectAlarm(stub);
      return receiver.calls.length >= 2;
    }, 10_000, "the retry after eviction");
    expect(receiver.calls[1]!.json).toMatchObject({ body: "kept", deliveries: 2 });
    expect(receiver.calls[1]!.headers["webhook-id"]).toBe(receiver.calls[0]!.headers["webhook-id"]);
  });
});

describe("retention", () => {
  it("keeps messages an endpoint has not delivered yet under retention.untilAcked", async () => {
    const station = await createStation({ retention: { untilAcked: true } });
    await putWebhook(station, "behind", { url: URL_A, retry: { scheduleMs: [60_000] } });
    receiver.reply((call) => (call.json.offset === 2 ? fail(500) : okResponse()));
    await produce(station, { messages: [{ body: 1 }, { body: 2 }, { body: 3 }] });
    // A consumer group reads and acks everything at once; the endpoint still owes offset 2.
    expect((await api("PUT", `/v1/stations/${station}/groups/readers`, {})).status).toBe(201);
    const fetched = await api("POST", `/v1/stations/${station}/groups/readers/fetch`, { consumer: "c", max: 10 });
    expect(fetched.body.messages).toHaveLength(3);
    await api("POST", `/v1/stations/${station}/groups/readers/ack`, { offsets: [1, 2, 3] });
    await waitFor(async () => (await getWebhook(station, "behind")).health.consecutiveFailures === 1, 10_000, "offset 2 failed once");
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats.firstOffset).toBe(2);
    const read = await api("GET", `/v1/stations/${station}/messages?from=1`);
    expect(read.body.messages.map((m: any) => m.offset)).toEqual([2, 3]);
  });
});
