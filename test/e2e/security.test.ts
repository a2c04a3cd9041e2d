// Security against a real `wrangler dev`: scoped tokens minted and refused, CORS from the
// configured origins only, and a flood of producers plus hostile garbage at one rate-limited
// station — no 5xx, every 429 with Retry-After, and every acknowledged message stored once.
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, apiClient, removeStateDir, sleep, startWorker } from "./wrangler-dev";

const TOKEN_SIGNING_KEY = "e2e-token-signing-key-0123456789abcdefghij";
const ORIGIN = "https://app.example";

describe("security under wrangler dev", () => {
  let worker: RunningWorker;
  let call: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    worker = await startWorker({ vars: { TOKEN_SIGNING_KEY, ALLOWED_ORIGINS: ORIGIN } });
    call = apiClient(worker);
  });
  afterAll(async () => {
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  const withToken = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${worker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("mints scoped tokens that reach their stations only, and refuses forged ones", async () => {
    expect((await call("PUT", "/v1/stations/e2e-orders", {})).status).toBe(201);
    expect((await call("PUT", "/v1/stations/e2e-payroll", {})).status).toBe(201);
    const minted = await call("POST", "/v1/tokens", { sub: "user:1", grants: [{ stations: ["e2e-orders"], actions: ["produce"] }] });
    expect(minted.status).toBe(201);
    const token = minted.body.token as string;
    expect((await withToken(token, "POST", "/v1/stations/e2e-orders/messages", { messages: [{ body: 1 }] })).status).toBe(200);
    const other = await withToken(token, "POST", "/v1/stations/e2e-payroll/messages", { messages: [{ body: 1 }] });
    expect(other.status).toBe(403);
    expect((await other.json()).error.code).toBe("forbidden");

    // Signed by an app's backend with the shared secret: accepted. Signed with anything else: not.
    const sign = (key: string, exp: number) =>
      new SignJWT({ grants: [{ stations: ["*"], actions: ["consume"] }] })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("backend-user")
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(key));
    const now = Math.floor(Date.now() / 1000);
    expect((await withToken(await sign(TOKEN_SIGNING_KEY, now + 60), "GET", "/v1/stations/e2e-payroll/messages")).status).toBe(200);
    for (const [forged, reason] of [
      [await sign("some-other-key-0123456789abcdefghijklmn", now + 60), "bad_signature"],
      [await sign(TOKEN_SIGNING_KEY, now - 3600), "token_expired"],
      [`${btoa('{"alg":"none"}')}.${btoa(`{"sub":"x","exp":${now + 60},"grants":[{"stations":["*"],"actions":["manage"]}]}`)}.`.replace(/=/g, ""), "algorithm_not_allowed"],
    ] as const) {
      const res = await withToken(forged, "DELETE", "/v1/stations/e2e-payroll");
      expect(res.status).toBe(401);
      expect((await res.json()).error.reason).toBe(reason);
    }
    expect((await call("GET", "/v1/stations/e2e-payroll")).status).toBe(200);
  });

  it("answers CORS preflights from the configured origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${worker.url}/v1/stations/e2e-orders/messages`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const refused = await preflight("https://evil.example");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("holds a flood back with 429 and Retry-After, never a 5xx, and stores every acknowledged message once", async () => {
    const station = "e2e-flood";
    expect((await call("PUT", `/v1/stations/${station}`, { rateLimit: { requestsPerSecond: 10 } })).status).toBe(201);
    const producers = 30;
    const batches = 6;
    const statuses = new Map<number, number>();
    let missingRetryAfter = 0;
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

    // Each producer sends its batches in seq order, waiting out every 429 as told.
    const produceAll = async (p: number) => {
      for (let b = 0; b < batches; b++) {
        for (;;) {
          const res = await withToken(worker.token, "POST", `/v1/stations/${station}/messages`, {
            producer: `flood-${p}`,
            messages: [{ seq: b * 2 + 1, body: { p, b, i: 0 } }, { seq: b * 2 + 2, body: { p, b, i: 1 } }],
          });
          count(res.status);
          await res.arrayBuffer();
          if (res.status === 200) break;
          if (res.status !== 429) throw new Error(`unexpected ${res.status}`);
          const retryAfter = Number(res.headers.get("retry-after"));
          if (!(retryAfter >= 1)) missingRetryAfter += 1;
          await sleep(retryAfter * 1000 * (0.5 + Math.random()));
        }
      }
    };
    // Meanwhile, garbage at the same station: nothing of it may be stored or answered with a 5xx.
    const garbage = async () => {
      const bodies = ['{"messages":[', "null", '{"messages":[{"body":1,"evil":true}]}', "[".repeat(5000), '{"producer":"x\\u0000"}'];
      for (let i = 0; i < 150; i++) {
        const res = await fetch(`${worker.url}/v1/stations/${station}/messages`, {
          method: i % 7 === 0 ? "PATCH" : "POST",
          headers: { authorization: `Bearer ${i % 3 === 0 ? "forged" : worker.token}`, "content-type": i % 5 === 0 ? "text/plain" : "application/json" },
          body: bodies[i % bodies.length],
        });
        count(res.status);
        await res.arrayBuffer();
      }
    };
    await Promise.all([...Array.from({ length: producers }, (_, p) => produceAll(p)), garbage()]);

    const fiveHundreds = [...statuses].filter(([status]) => status >= 500);
    expect(fiveHundreds, JSON.stringify([...statuses])).toEqual([]);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);
    expect(missingRetryAfter).toBe(0);

    // Read the whole log back (waiting out the station's own rate like any client).
    const seen = new Map<string, number[]>();
    let from = 1;
    for (;;) {
      const res = await call("GET", `/v1/stations/${station}/messages?from=${from}&limit=1000`);
      if (res.status === 429) {
        await sleep(1000);
        continue;
      }
      expect(res.status).toBe(200);
      for (const message of res.body.messages) seen.set(message.producer, [...(seen.get(message.producer) ?? []), message.seq]);
      if (res.body.messages.length === 0) break;
      from = res.body.nextOffset;
    }
    expect(seen.size).toBe(producers);
    for (const seqs of seen.values()) expect(seqs).toEqual(Array.from({ length: batches * 2 }, (_, i) => i + 1));
  });
});
