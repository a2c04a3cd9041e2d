// Scoped tokens: minting, and every way a token can be refused (expired, forged, tampered,
// alg-confused, malformed, bad claims) — always 401 with a code and a reason, never a 5xx.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { ADMIN_TOKEN, api, createStation, produce } from "./helpers";
import { allAccessPayload, grantToken, mintViaApi, noneToken, rs256Token, signToken, tamper, uniqueSubject } from "./token-helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

async function expectRefused(token: string, reason: string) {
  const res = await api("GET", "/v1/stations", undefined, { token });
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe("unauthorized");
  expect(res.body.error.reason).toBe(reason);
  expect(res.headers.get("www-authenticate")).toContain("Bearer");
}

describe("POST /v1/tokens", () => {
  it("mints a token that reaches exactly its grants", async () => {
    const station = await createStation();
    const other = await createStation();
    const res = await mintViaApi({ sub: "user-7", ttlSeconds: 120, grants: [{ stations: [station], actions: ["produce"] }] });
    expect(res.status).toBe(201);
    expect(res.body.claims).toMatchObject({ sub: "user-7", grants: [{ stations: [station], actions: ["produce"] }] });
    expect(res.body.claims.exp - res.body.claims.iat).toBe(120);
    expect(res.body.expiresAt).toBe(res.body.claims.exp * 1000);
    const token = res.body.token as string;
    expect((await api("POST", `/v1/stations/${station}/messages`, { messages: [{ body: 1 }] }, { token })).status).toBe(200);
    expect((await api("POST", `/v1/stations/${other}/messages`, { messages: [{ body: 1 }] }, { token })).status).toBe(403);
  });

  it("gives a token one hour when no ttl is asked for", async () => {
    const res = await mintViaApi({ sub: "user-8", grants: [{ stations: ["*"], actions: ["consume"] }] });
    expect(res.status).toBe(201);
    expect(res.body.claims.exp - res.body.claims.iat).toBe(3600);
  });

  it("refuses to mint for anyone but the admin", async () => {
    const manager = await grantToken(["*"], ["produce", "consume", "manage"]);
    const res = await api("POST", "/v1/tokens", { sub: "x", grants: [{ stations: ["*"], actions: ["manage"] }] }, { token: manager });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect((await api("POST", "/v1/tokens", { sub: "x", grants: [] }, { token: null })).status).toBe(401);
  });

  it.each([
    [{ sub: "u", grants: [{ stations: ["orders*"], actions: ["produce"] }] }, "grants.0.stations.0"],
    [{ sub: "u", grants: [{ stations: ["*.eu"], actions: ["produce"] }] }, "grants.0.stations.0"],
    [{ sub: "u", grants: [{ stations: ["Orders"], actions: ["produce"] }] }, "grants.0.stations.0"],
    [{ sub: "u", grants: [{ stations: ["orders"], actions: ["delete"] }] }, "grants.0.actions.0"],
    [{ sub: "u", grants: [{ stations: [], actions: ["produce"] }] }, "grants.0.stations"],
    [{ sub: "u", grants: [] }, "grants"],
    [{ sub: "u", ttlSeconds: 31 * 24 * 3600, grants: [{ stations: ["a"], actions: ["produce"] }] }, "ttlSeconds"],
    [{ sub: "u", ttlSeconds: 0, grants: [{ stations: ["a"], actions: ["produce"] }] }, "ttlSeconds"],
    [{ sub: "bad\nsubject", grants: [{ stations: ["a"], actions: ["produce"] }] }, "sub"],
    [{ sub: "u", grants: [{ stations: ["a"], actions: ["produce"] }], admin: true }, "admin"],
  ])("refuses a mint request that breaks the contract (%j)", async (request, path) => {
    const res = await mintViaApi(request);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  });

  it("says which field is unknown in words", async () => {
    const res = await mintViaApi({ sub: "u", grants: [{ stations: ["a"], actions: ["produce"], extra: 1 }] });
    expect(res.body.error.message).toBe('Unknown field "extra": this object takes no such field at grants.0.extra');
  });
});

describe("refused tokens", () => {
  it("refuses an expired token with reason token_expired", async () => {
    await expectRefused(await signToken({ expiresIn: -120 }), "token_expired");
  });

  it("accepts a token a few seconds past exp (clock skew) but not minutes past", async () => {
    expect((await api("GET", "/v1/stations", undefined, { token: await signToken({ expiresIn: -5 }) })).status).toBe(200);
    await expectRefused(await signToken({ expiresIn: -90 }), "token_expired");
  });

  it("refuses a token signed with another key", async () => {
    await expectRefused(await signToken({ key: "another-signing-key-that-is-long-enough-0123" }), "bad_signature");
  });

  it("refuses a genuine token whose claims were widened after signing", async () => {
    const token = await grantToken(["mine"], ["consume"]);
    await expectRefused(tamper(token, allAccessPayload()), "bad_signature");
  });

  it("refuses alg none", async () => {
    await expectRefused(noneToken(), "algorithm_not_allowed");
  });

  it("refuses a token that asks for an unknown critical extension", async () => {
    const header = btoa(JSON.stringify({ alg: "HS256", crit: ["exp2"], exp2: 1 })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const [, payload, signature] = (await signToken()).split(".");
    await expectRefused(`${header}.${payload}.${signature}`, "malformed");
  });

  it("refuses RS256 and HS512 tokens", async () => {
    await expectRefused(await rs256Token(), "algorithm_not_allowed");
    await expectRefused(await signToken({ alg: "HS512" }), "algorithm_not_allowed");
  });

  it.each([
    ["not-a-jwt", "unknown_token"],
    ["a.b.c", "malformed"],
    ["eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "bad_signature"], // the signature is checked before the payload is read
    ["eyJub3QiOiJhbGcifQ.eyJzdWIiOiJ4In0.c2ln", "malformed"],
    ["..", "unknown_token"],
  ])("refuses the malformed token %s", async (token, reason) => {
    await expectRefused(token, reason);
  });

  it("refuses a token without exp, without sub, or with claims it does not know", async () => {
    await expectRefused(await signToken({ omit: ["exp"] }), "invalid_claims");
    await expectRefused(await signToken({ omit: ["sub"] }), "invalid_claims");
    await expectRefused(await signToken({ claims: { role: "admin" } }), "invalid_claims");
    await expectRefused(await signToken({ claims: { grants: [{ stations: ["a*"], actions: ["produce"] }] } }), "invalid_claims");
    await expectRefused(await signToken({ claims: { grants: "everything" } }), "invalid_claims");
  });

  it("refuses a token that lives longer than 30 days, and one not valid yet", async () => {
    await expectRefused(await signToken({ expiresIn: 40 * 24 * 3600 }), "lifetime_too_long");
    await expectRefused(await signToken({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }), "token_not_yet_valid");
  });

  it("refuses a missing or non-Bearer Authorization header", async () => {
    expect((await api("GET", "/v1/stations", undefined, { token: null })).body.error.reason).toBe("missing");
    const res = await api("GET", "/v1/stations", undefined, { token: null, headers: { authorization: `Basic ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(401);
  });
});

describe("a worker without TOKEN_SIGNING_KEY", () => {
  const app = buildApp();
  const unsigned = { ...env, TOKEN_SIGNING_KEY: undefined };
  const call = (path: string, token: string, init: RequestInit = {}) =>
    app.fetch(new Request(`https://waystation.test${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } }), unsigned);

  it("refuses every JWT, even a well-signed one, and still serves the admin", async () => {
    const res = await call("/v1/stations", await signToken());
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.reason).toBe("scoped_tokens_disabled");
    expect((await call("/v1/stations", ADMIN_TOKEN)).status).toBe(200);
  });

  it("answers POST /v1/tokens with 503 not_configured", async () => {
    const res = await call("/v1/tokens", ADMIN_TOKEN, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "u", grants: [{ stations: ["a"], actions: ["produce"] }] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.code).toBe("not_configured");
  });

  it("treats a signing key shorter than 32 characters as none", async () => {
    const short = { ...env, TOKEN_SIGNING_KEY: "short-key" };
    const token = await signToken({ key: "short-key" });
    const res = await app.fetch(new Request("https://waystation.test/v1/stations", { headers: { authorization: `Bearer ${token}` } }), short);
    expect(res.status).toBe(401);
  });
});

describe("the admin token", () => {
  it("still reaches everything, with Bearer in any case", async () => {
    const station = await createStation();
    expect((await produce(station, { messages: [{ body: "x" }] })).status).toBe(200);
    const res = await api("GET", `/v1/stations/${station}`, undefined, { token: null, headers: { authorization: `bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
  });

  it("is not taken for a JWT subject called admin", async () => {
    const token = await grantToken(["nothing-here"], ["consume"], { sub: "admin" });
    const res = await api("POST", "/v1/tokens", { sub: uniqueSubject(), grants: [{ stations: ["*"], actions: ["manage"] }] }, { token });
    expect(res.status).toBe(403);
  });
});
