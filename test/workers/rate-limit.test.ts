// Backpressure: a station's own rates (its config) and a token subject's rates (its claims or
// the defaults), each answered with 429 `rate_limited` and a Retry-After in whole seconds, and
// a refused produce stores nothing.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { ADMIN, scopedPrincipal } from "../../worker/auth/principal";
import { ADMIN_TOKEN, api, createStation, produce } from "./helpers";
import { grantToken, uniqueSubject } from "./token-helpers";

const one = (n: number) => ({ messages: [{ body: { n } }] });

// The first request of a file starts the runtime: not part of any rate under test.
beforeAll(async () => {
  await api("GET", "/healthz", undefined, { token: null });
}, 30_000);

function expectRateLimited(res: { status: number; headers: Headers; body: any }, scope: string) {
  expect(res.status).toBe(429);
  expect(res.body.error).toMatchObject({ code: "rate_limited", scope });
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(res.body.error.retryAfterSeconds).toBe(retryAfter);
}

describe("per station", () => {
  it("refuses requests over the station's rate with Retry-After, whoever calls, and stores nothing", async () => {
    const station = await createStation({ rateLimit: { requestsPerSecond: 1 } });
    // A burst of two seconds' worth passes; the rest of ten at once, the admin's included, do not.
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => produce(station, one(n))));
    const accepted = results.filter((res) => res.status === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThanOrEqual(5);
    expectRateLimited(results.find((res) => res.status === 429)!, "station");
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats.messages).toBe(accepted);
  });

  it("counts reads against the station's request rate too", async () => {
    const station = await createStation({ rateLimit: { requestsPerSecond: 1 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => api("GET", `/v1/stations/${station}/messages`)));
    expect(results.filter((res) => res.status === 200).length).toBeLessThanOrEqual(5);
    expectRateLimited(results.find((res) => res.status === 429)!, "station");
  });

  it("lets one request larger than the byte burst through, then holds the station back until it is paid", async () => {
    const station = await createStation({ rateLimit: { bytesPerSecond: 100 } });
    const big = { messages: [{ body: "x".repeat(1000) }] };
    expect((await produce(station, big)).status).toBe(200);
    const res = await produce(station, one(1));
    expectRateLimited(res, "station");
    // 1000 bytes in debt of a 200-byte bucket at 100 bytes/s: about ten seconds.
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(8);
  });

  it("keeps each station's rate to itself", async () => {
    const busy = await createStation({ rateLimit: { requestsPerSecond: 1 } });
    const quiet = await createStation();
    for (let i = 0; i < 4; i++) await produce(busy, one(i));
    expect((await produce(quiet, one(1))).status).toBe(200);
  });
});

describe("per token", () => {
  it("refuses a subject over its own rate with Retry-After", async () => {
    const station = await createStation();
    const token = await grantToken([station], ["produce"], { claims: { limits: { requestsPerSecond: 1 } } });
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => api("POST", `/v1/stations/${station}/messages`, one(n), { token })));
    const accepted = results.filter((res) => res.status === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThanOrEqual(5);
    expectRateLimited(results.find((res) => res.status === 429)!, "token");
    // The station is not the limit: the admin still gets through.
    expect((await produce(station, one(9))).status).toBe(200);
  });

  it("shares one rate among all tokens of a subject, and keeps subjects apart", async () => {
    const station = await createStation();
    const sub = uniqueSubject();
    const limits = { requestsPerSecond: 1 };
    const first = await grantToken([station], ["consume"], { sub, claims: { limits } });
    const second = await grantToken([station], ["consume"], { sub, claims: { limits } });
    const tokens = [first, second, first, second, first, second, first, second, first, second];
    const statuses = (await Promise.all(tokens.map((token) => api("GET", `/v1/stations/${station}/messages`, undefined, { token })))).map((r) => r.status);
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(5);
    const stranger = await grantToken([station], ["consume"], { claims: { limits } });
    expect((await api("GET", `/v1/stations/${station}/messages`, undefined, { token: stranger })).status).toBe(200);
  });

  it("counts declared body bytes against the subject's byte rate", async () => {
    const station = await createStation();
    const token = await grantToken([station], ["produce"], { claims: { limits: { bytesPerSecond: 50 } } });
    expect((await api("POST", `/v1/stations/${station}/messages`, { messages: [{ body: "y".repeat(500) }] }, { token })).status).toBe(200);
    expectRateLimited(await api("POST", `/v1/stations/${station}/messages`, one(1), { token }), "token");
  });

  it("limits scoped tokens by default, and the admin only per station", async () => {
    const station = await createStation();
    const claims = { sub: "u", exp: 2_000_000_000, grants: [{ stations: ["*"], actions: ["consume" as const] }] };
    expect(scopedPrincipal(claims).rates).toEqual({ requestsPerSecond: 50, bytesPerSecond: 4 * 1024 * 1024 });
    expect(scopedPrincipal({ ...claims, limits: { requestsPerSecond: 7 } }).rates).toEqual({ requestsPerSecond: 7, bytesPerSecond: 4 * 1024 * 1024 });
    expect(ADMIN.rates).toBeNull();
    const burst = await Promise.all(Array.from({ length: 250 }, () => api("GET", `/v1/stations/${station}/messages`)));
    expect(burst.every((res) => res.status === 200)).toBe(true);
  });
});

describe("the TOKEN_RATE_LIMITER binding", () => {
  const app = buildApp();
  const call = async (binding: RateLimit, token: string) =>
    app.fetch(new Request("https://waystation.test/v1/stations", { headers: { authorization: `Bearer ${token}` } }), { ...env, TOKEN_RATE_LIMITER: binding });

  it("refuses a subject the binding refuses, with the binding's window as Retry-After", async () => {
    const keys: string[] = [];
    const refusing = { limit: async ({ key }: { key: string }) => (keys.push(key), { success: false }) };
    const sub = uniqueSubject();
    const res = await call(refusing, await grantToken(["*"], ["consume"], { sub }));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("10");
    expect(((await res.json()) as any).error).toMatchObject({ code: "rate_limited", scope: "token" });
    expect(keys).toEqual([`subject:${sub}`]);
  });

  it("is never asked about the admin, and a failing binding does not take the API down", async () => {
    const failing = { limit: async () => Promise.reject(new Error("binding down")) };
    expect((await call(failing, await grantToken(["*"], ["consume"]))).status).toBe(200);
    const refusing = { limit: async () => ({ success: false }) };
    expect((await call(refusing, ADMIN_TOKEN)).status).toBe(200);
  });
});
