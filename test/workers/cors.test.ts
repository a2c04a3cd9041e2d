// CORS: exact origins from ALLOWED_ORIGINS (vitest.config.mts: https://app.example and
// http://localhost:5173) get preflights answered and responses readable; nothing else gets
// a single CORS header.
import { beforeAll, describe, expect, it } from "vitest";
import { allowedOrigins } from "../../worker/middleware/cors";
import { api, createStation } from "./helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

const ALLOWED = "https://app.example";

function preflight(origin: string, path = "/v1/stations/orders/messages", requestHeaders = "authorization, content-type") {
  return api("OPTIONS", path, undefined, {
    token: null,
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
  });
}

function corsHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith("access-control-"));
}

describe("preflight", () => {
  it("answers an allowed origin's preflight with 204 and what it may send", async () => {
    const res = await preflight(ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    const allowedHeaders = res.headers.get("access-control-allow-headers")!.split(",").map((h) => h.trim());
    expect(allowedHeaders).toEqual(expect.arrayContaining(["authorization", "content-type", "waystation-protocol"]));
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("answers a preflight without a token, on any path, from the second configured origin too", async () => {
    const res = await preflight("http://localhost:5173", "/v1/stations");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });

  it.each(["https://evil.example", "https://app.example.evil.example", "http://app.example", "https://app.example:8443", "null", "https://APP.example"])(
    "refuses the preflight of %s with 403 and no CORS header",
    async (origin) => {
      const res = await preflight(origin);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
      expect(corsHeaders(res.headers)).toEqual([]);
    },
  );
});

describe("actual requests", () => {
  it("marks an allowed origin's responses readable, errors and Retry-After included", async () => {
    const station = await createStation();
    const ok = await api("GET", `/v1/stations/${station}`, undefined, { headers: { origin: ALLOWED } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(ok.headers.get("access-control-expose-headers")).toContain("retry-after");
    expect(ok.headers.get("vary")).toContain("Origin");
    const refused = await api("GET", "/v1/stations", undefined, { token: "nope", headers: { origin: ALLOWED } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  it("gives a refused origin no CORS header, and still answers (the browser hides it)", async () => {
    const res = await api("GET", "/v1/stations", undefined, { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it("gives a request without Origin no CORS header", async () => {
    const res = await api("GET", "/healthz", undefined, { token: null });
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it("answers OPTIONS that is not a preflight like any other unknown method", async () => {
    const res = await api("OPTIONS", "/healthz", undefined, { token: null });
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe("method_not_allowed");
    expect(corsHeaders(res.headers)).toEqual([]);
  });
});

describe("ALLOWED_ORIGINS", () => {
  it("keeps exact http(s) origins, normalised, and drops anything else", () => {
    const origins = allowedOrigins(" https://A.example/ ,http://localhost:3000,*, https://x.example/path, ftp://f.example,,https://u:p@y.example");
    expect([...origins]).toEqual(["https://a.example", "http://localhost:3000"]);
    expect([...allowedOrigins(undefined)]).toEqual([]);
  });
});
