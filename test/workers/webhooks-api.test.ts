// The webhook endpoint routes: PUT (secret made once, kept, given, refused), GET one and the
// list with health, DELETE, replay, the SSRF guard with and without WEBHOOK_ALLOW_PRIVATE, name
// rules, the manage right, and the endpoint's entry among the station's groups.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { buildApp } from "../../worker/app";
import { ADMIN_TOKEN, api, createStation, produce, uniqueStation } from "./helpers";
import { dohReply, getWebhook, headersOf, mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";
import { grantToken } from "./token-helpers";

const URL_A = "http://receiver.test/a";
const SECRET_32 = "whsec_" + btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i + 1)));

vi.setConfig({ testTimeout: 30_000 });

let receiver: Receiver;
beforeEach(() => {
  receiver = mockReceiver();
});
afterEach(() => receiver.restore());

describe("PUT /v1/stations/{station}/webhooks/{name}", () => {
  it("creates with 201 and shows a generated whsec_ secret once", async () => {
    const station = await createStation();
    const res = await putWebhook(station, "orders", { url: URL_A });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "orders",
      group: "webhook:orders",
      url: URL_A,
      ordered: true,
      maxInFlight: 1,
      filter: null,
      timeoutMs: 15000,
      disableAfterMs: 5 * 24 * 3600 * 1000,
      enabled: true,
      retry: { scheduleMs: [1000, 5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000] },
      cursor: { nextOffset: 1, pending: 0, lag: 0 },
      health: { consecutiveFailures: 0, delivered: 0, deadLettered: 0 },
    });
    const secret: string = res.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(atob(secret.slice(6)).length).toBe(32);
    const got = await getWebhook(station, "orders");
    expect(got.secret).toBeUndefined();
    expect(JSON.stringify(got)).not.toContain(secret.slice(6));
  });

  it("keeps the secret on a later PUT without one (200, no secret shown)", async () => {
    const station = await createStation();
    const created = await putWebhook(station, "keep", { url: URL_A });
    const updated = await putWebhook(station, "keep", { url: URL_A, timeoutMs: 2000 });
    expect(updated.status).toBe(200);
    expect(updated.body.secret).toBeUndefined();
    expect(updated.body.timeoutMs).toBe(2000);
    await produce(station, { messages: [{ body: 1 }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "a delivery");
    expect(new Webhook(created.body.secret).verify(call.body, headersOf(call))).toMatchObject({ body: 1 });
  });

  it("uses a secret given by the caller, with or without the whsec_ prefix, and never echoes it", async () => {
    const station = await createStation();
    const res = await putWebhook(station, "given", { url: URL_A, secret: SECRET_32.slice(6) });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBeUndefined();
    await produce(station, { messages: [{ body: "x" }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "a delivery");
    expect(new Webhook(SECRET_32).verify(call.body, headersOf(call))).toMatchObject({ body: "x" });
  });

  it("refuses secrets that are not base64 of 24–64 bytes", async () => {
    const station = await createStation();
    for (const secret of ["whsec_", "whsec_short", "whsec_" + btoa("x".repeat(16)), "whsec_" + btoa("x".repeat(65)), "whsec_!!!!" + "A".repeat(40)]) {
      const res = await putWebhook(station, "bad", { url: URL_A, secret });
      expect(res.status, secret).toBe(422);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.issues[0].path).toBe("secret");
    }
  });

  it("refuses bad options with 422 and a path", async () => {
    const station = await createStation();
    const cases: [unknown, string][] = [
      [{}, "url"],
      [{ url: URL_A, ordered: true, maxInFlight: 4 }, ""],
      [{ url: URL_A, maxInFlight: 0 }, "maxInFlight"],
      [{ url: URL_A, timeoutMs: 5 }, "timeoutMs"],
      [{ url: URL_A, retry: { scheduleMs: [-1] } }, "retry.scheduleMs.0"],
      [{ url: URL_A, retry: { scheduleMs: Array(21).fill(1) } }, "retry.scheduleMs"],
      [{ url: URL_A, start: "middle" }, "start"],
      [{ url: URL_A, filter: { headers: { type: [] } } }, "filter.headers.type"],
      [{ url: URL_A, colour: "red" }, "colour"],
    ];
    for (const [body, path] of cases) {
      const res = await putWebhook(station, "opts", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.issues[0].path, JSON.stringify(body)).toBe(path);
    }
  });

  it("makes an endpoint unordered when maxInFlight > 1 is given", async () => {
    const station = await createStation();
    const res = await putWebhook(station, "fast", { url: URL_A, maxInFlight: 4 });
    expect(res.body).toMatchObject({ ordered: false, maxInFlight: 4 });
    const unordered = await putWebhook(station, "loose", { url: URL_A, ordered: false });
    expect(unordered.body).toMatchObject({ ordered: false, maxInFlight: 6 });
  });

  it("refuses URLs that are not http(s) or carry credentials with 422 invalid_webhook_url", async () => {
    const station = await createStation();
    for (const [url, reason] of [
      ["ftp://example.com/x", "scheme"],
      ["notaurl", "malformed"],
      ["https://user:pw@example.com/", "credentials"],
    ] as const) {
      const res = await putWebhook(station, "u", { url });
      expect(res.status, url).toBe(422);
      expect(res.body.error).toMatchObject({ code: "invalid_webhook_url", reason });
    }
  });

  it("refuses http:// and private hosts when WEBHOOK_ALLOW_PRIVATE is not 1 (deployed)", async () => {
    const station = await createStation();
    const deployed = buildApp();
    const put = (url: string) =>
      deployed.fetch(
        new Request(`https://waystation.test/v1/stations/${station}/webhooks/prod`, {
          method: "PUT",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ url }),
        }),
        { ...env, WEBHOOK_ALLOW_PRIVATE: undefined },
      );
    for (const [url, reason] of [
      ["http://example.com/hook", "scheme"],
      ["https://127.0.0.1/hook", "private_address"],
      ["https://localhost/hook", "localhost"],
      ["https://169.254.169.254/latest", "private_address"],
      ["https://[::1]/hook", "private_address"],
      ["https://10.0.0.8/hook", "private_address"],
      ["https://127.0.0.1.nip.io/hook", "private_address"],
      ["https://localhost.localdomain/hook", "internal_name"],
      ["https://metadata.google.internal/computeMetadata/v1/", "internal_name"],
      ["https://[64:ff9b:1::a00:1]/hook", "private_address"],
      ["https://[::ffff:0:10.0.0.1]/hook", "private_address"],
    ] as const) {
      const res = await put(url);
      expect(res.status, url).toBe(422);
      expect(((await res.json()) as any).error).toMatchObject({ code: "invalid_webhook_url", reason });
    }
    // A public name is resolved (DNS over HTTPS) before it is saved.
    receiver.reply((call) => dohReply(call, { "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"] }) ?? new Response(null, { status: 204 }));
    expect((await put("https://hooks.example.com/in")).status).toBe(201);
    expect(receiver.calls.some((call) => call.url.includes("name=hooks.example.com&type=AAAA"))).toBe(true);
  });

  it("resolves host names at PUT when deployed: any private A or AAAA record, or a failed lookup, refuses", async () => {
    const station = await createStation();
    const deployed = buildApp();
    const put = (url: string, workerEnv: Record<string, unknown> = { ...env, WEBHOOK_ALLOW_PRIVATE: undefined }) =>
      deployed.fetch(
        new Request(`https://waystation.test/v1/stations/${station}/webhooks/named`, {
          method: "PUT",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ url }),
        }),
        workerEnv,
      );
    receiver.reply(
      (call) =>
        dohReply(call, {
          "rebind.example.com": ["127.0.0.1"],
          "meta.example.com": ["169.254.169.254"],
          "mixed.example.com": ["93.184.216.34", "10.0.0.7"],
          "v6.example.com": ["93.184.216.34", "fd00::1"],
          "nat64.example.com": ["64:ff9b:1::a00:1"],
          "servfail.example.com": "fail",
          "public.example.com": ["93.184.216.34"],
        }) ?? new Response(null, { status: 204 }),
    );
    for (const [url, reason] of [
      ["https://rebind.example.com/", "resolves_private"],
      ["https://meta.example.com/", "resolves_private"],
      ["https://mixed.example.com/", "resolves_private"],
      ["https://v6.example.com/", "resolves_private"],
      ["https://nat64.example.com/", "resolves_private"],
      ["https://servfail.example.com/", "unresolvable"],
      ["https://nxdomain.example.com/", "unresolvable"],
    ] as const) {
      const res = await put(url);
      expect(res.status, url).toBe(422);
      expect(((await res.json()) as any).error, url).toMatchObject({ code: "invalid_webhook_url", reason });
    }
    expect((await put("https://public.example.com/")).status).toBe(201);
    // WEBHOOK_RESOLVE_DNS=0 (on Cloudflare's edge, where fetch() reaches no private network): names are not resolved.
    const asked = receiver.calls.length;
    expect((await put("https://rebind.example.com/", { ...env, WEBHOOK_ALLOW_PRIVATE: undefined, WEBHOOK_RESOLVE_DNS: "0" })).status).toBe(200);
    expect(receiver.calls.length).toBe(asked);
  });

  it("refuses invalid endpoint names with 400 and unknown stations with 404", async () => {
    const station = await createStation();
    const bad = await putWebhook(station, "Bad_Name", { url: URL_A });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_name");
    const missing = await putWebhook(uniqueStation(), "x", { url: URL_A });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("station_not_found");
  });

  it("needs the manage right on the station", async () => {
    const station = await createStation();
    const producer = await grantToken([station], ["produce", "consume"]);
    const paths: [string, string, unknown?][] = [
      ["PUT", `/v1/stations/${station}/webhooks/x`, { url: URL_A }],
      ["GET", `/v1/stations/${station}/webhooks`],
      ["GET", `/v1/stations/${station}/webhooks/x`],
      ["DELETE", `/v1/stations/${station}/webhooks/x`],
      ["POST", `/v1/stations/${station}/webhooks/x/replay`, { from: 1 }],
    ];
    for (const [method, path, body] of paths) {
      const res = await api(method, path, body, { token: producer });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    const manager = await grantToken([station], ["manage"]);
    expect((await api("PUT", `/v1/stations/${station}/webhooks/x`, { url: URL_A }, { token: manager })).status).toBe(201);
  });
});

describe("GET, DELETE and replay", () => {
  it("lists endpoints with their health and shows each among the station's groups", async () => {
    const station = await createStation();
    await putWebhook(station, "a", { url: URL_A });
    await putWebhook(station, "b", { url: "http://receiver.test/b", enabled: false });
    await produce(station, { messages: [{ body: 1 }, { body: 2 }] });
    await waitFor(async () => (await getWebhook(station, "a")).health.delivered === 2, 10_000, "two deliveries to a");
    const list = await api("GET", `/v1/stations/${station}/webhooks`);
    expect(list.status).toBe(200);
    expect(list.body.webhooks.map((w: any) => w.name)).toEqual(["a", "b"]);
    const [a, b] = list.body.webhooks;
    expect(a).toMatchObject({
      enabled: true,
      cursor: { nextOffset: 3, ackFloor: 2, pending: 0, lag: 0 },
      health: { lastStatus: 204, lastError: null, consecutiveFailures: 0, delivered: 2 },
    });
    expect(a.recent.map((r: any) => [r.offset, r.attempt, r.status, r.outcome])).toEqual([
      [2, 1, 204, "delivered"],
      [1, 1, 204, "delivered"],
    ]);
    expect(b).toMatchObject({ enabled: false, disabledReason: "manual", cursor: { nextOffset: 1, lag: 2 } });
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "webhook:a", ackFloor: 2, pending: 0, lag: 0 }),
        expect.objectContaining({ name: "webhook:b", lag: 2 }),
      ]),
    );
  });

  it("answers 404 webhook_not_found for an unknown endpoint", async () => {
    const station = await createStation();
    for (const [method, path, body] of [
      ["GET", `/v1/stations/${station}/webhooks/nope`],
      ["DELETE", `/v1/stations/${station}/webhooks/nope`],
      ["POST", `/v1/stations/${station}/webhooks/nope/replay`, { from: 1 }],
    ] as const) {
      const res = await api(method, path, body);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "webhook_not_found", webhook: "nope" });
    }
  });

  it("deletes an endpoint: it is gone and gets nothing more", async () => {
    const station = await createStation();
    const url = "http://receiver.test/deleted";
    await putWebhook(station, "gone", { url });
    const res = await api("DELETE", `/v1/stations/${station}/webhooks/gone`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: "gone", deleted: true });
    expect((await api("GET", `/v1/stations/${station}/webhooks`)).body.webhooks).toEqual([]);
    await produce(station, { messages: [{ body: 1 }] });
    await putWebhook(station, "witness", { url: "http://receiver.test/w", start: "earliest" });
    await waitFor(() => receiver.calls.length >= 1, 10_000, "the witness delivery");
    expect(receiver.callsTo(url)).toEqual([]);
  });

  it("replays from an offset with the same webhook-ids", async () => {
    const station = await createStation();
    await putWebhook(station, "again", { url: URL_A });
    await produce(station, { messages: [{ body: 1 }, { body: 2 }, { body: 3 }] });
    await waitFor(() => receiver.calls.length >= 3, 10_000, "three deliveries");
    const firstIds = receiver.calls.map((c) => c.headers["webhook-id"]);
    const replay = await api("POST", `/v1/stations/${station}/webhooks/again/replay`, { from: 2 });
    expect(replay.status).toBe(200);
    expect(replay.body.cursor.nextOffset).toBeLessThanOrEqual(3);
    await waitFor(() => receiver.calls.length >= 5, 10_000, "two replayed deliveries");
    expect(receiver.calls.slice(3).map((c) => c.json.offset)).toEqual([2, 3]);
    expect(receiver.calls.slice(3).map((c) => c.headers["webhook-id"])).toEqual(firstIds.slice(1));
    expect((await api("POST", `/v1/stations/${station}/webhooks/again/replay`, { from: "latest" })).status).toBe(422);
  });
});
