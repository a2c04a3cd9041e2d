// Tenants cannot cross each other through schemas, groups or foreign tokens (issue 14, items 8
// and 11): binding or reading a schema needs a grant on it; a consume grant that names groups
// reaches those groups only; with TOKEN_AUDIENCE / TOKEN_ISSUER set, a token for another service
// or from another issuer is refused.
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { ADMIN_TOKEN, api, produce, uniqueStation } from "./helpers";
import { TODO_V1 } from "./schemas-helpers";
import { grantToken, mintViaApi, signToken } from "./token-helpers";

const shape = { schema: TODO_V1 };

/** Two tenants' prefixes, a schema of tenant b, and a manage token of tenant a. */
async function tenants() {
  const a = uniqueStation("ta");
  const b = uniqueStation("tb");
  expect((await api("PUT", `/v1/schemas/${b}.secret`, shape)).status).toBe(201);
  const tokenA = await grantToken([`${a}.*`], ["manage", "produce", "consume"]);
  return { a, b, tokenA };
}

describe("schemas across tenants", () => {
  it("refuses binding a station to another tenant's schema, and reading that schema", async () => {
    const { a, b, tokenA } = await tenants();
    const bind = await api("PUT", `/v1/stations/${a}.orders`, { schema: { name: `${b}.secret` } }, { token: tokenA });
    expect(bind.status).toBe(403);
    expect(bind.body.error).toMatchObject({ code: "forbidden", action: "manage", schema: `${b}.secret` });
    // Nothing was created or bound: the station does not exist, so its schema cannot be read.
    expect((await api("GET", `/v1/stations/${a}.orders`)).status).toBe(404);
    expect((await api("GET", `/v1/stations/${a}.orders/schema`, undefined, { token: tokenA })).status).toBe(404);
    for (const path of [`/v1/schemas/${b}.secret`, `/v1/schemas/${b}.secret/versions/1`]) {
      const read = await api("GET", path, undefined, { token: tokenA });
      expect(read.status, path).toBe(403);
      expect(read.body.error).toMatchObject({ code: "forbidden", schema: `${b}.secret` });
    }
    expect((await api("PUT", `/v1/schemas/${b}.secret`, shape, { token: tokenA })).status).toBe(403);
    const listed = await api("GET", "/v1/schemas", undefined, { token: tokenA });
    expect(listed.status).toBe(200);
    expect(listed.body.schemas.map((s: { name: string }) => s.name)).not.toContain(`${b}.secret`);
    // Updating an existing station of a to b's schema is refused the same way.
    expect((await api("PUT", `/v1/stations/${a}.plain`, {}, { token: tokenA })).status).toBe(201);
    expect((await api("PUT", `/v1/stations/${a}.plain`, { schema: { name: `${b}.secret` } }, { token: tokenA })).status).toBe(403);
    expect((await api("GET", `/v1/stations/${a}.plain/schema`, undefined, { token: tokenA })).body.schema).toBeNull();
  });

  it("lets a tenant add, read and bind schemas under its own prefix", async () => {
    const { a, tokenA } = await tenants();
    expect((await api("PUT", `/v1/schemas/${a}.todo`, shape, { token: tokenA })).status).toBe(201);
    expect((await api("GET", `/v1/schemas/${a}.todo`, undefined, { token: tokenA })).status).toBe(200);
    expect((await api("PUT", `/v1/stations/${a}.todos`, { schema: { name: `${a}.todo` } }, { token: tokenA })).status).toBe(201);
    const read = await api("GET", `/v1/stations/${a}.todos/schema`, undefined, { token: tokenA });
    expect(read.status).toBe(200);
    expect(read.body.schema).toMatchObject({ name: `${a}.todo`, version: 1 });
    const listed = await api("GET", "/v1/schemas", undefined, { token: tokenA });
    expect(listed.body.schemas.map((s: { name: string }) => s.name)).toEqual([`${a}.todo`]);
  });

  it("follows a grant's own schema patterns when it names them", async () => {
    const { a, b } = await tenants();
    expect((await api("PUT", `/v1/schemas/${a}.own`, shape)).status).toBe(201);
    const token = await signToken({ grants: [{ stations: [`${a}.*`], schemas: [`${b}.*`], actions: ["manage"] }] as any });
    expect((await api("PUT", `/v1/stations/${a}.shared`, { schema: { name: `${b}.secret` } }, { token })).status).toBe(201);
    // Its schema patterns replace the station patterns for schemas: a's own schema is out of reach.
    expect((await api("PUT", `/v1/stations/${a}.own`, { schema: { name: `${a}.own` } }, { token })).status).toBe(403);
  });

  it("keeps a binding the admin made when the tenant changes the station's other settings", async () => {
    const { a, b, tokenA } = await tenants();
    expect((await api("PUT", `/v1/stations/${a}.legacy`, { schema: { name: `${b}.secret` } })).status).toBe(201);
    const update = await api("PUT", `/v1/stations/${a}.legacy`, { schema: { name: `${b}.secret` }, maxDeliveries: 3 }, { token: tokenA });
    expect(update.status).toBe(200);
    expect(update.body.config.maxDeliveries).toBe(3);
  });

  it("refuses schema routes to a token with no manage grant", async () => {
    const { a } = await tenants();
    const token = await grantToken([`${a}.*`], ["produce", "consume"]);
    for (const [method, path] of [["GET", "/v1/schemas"], ["GET", `/v1/schemas/${a}.x`], ["PUT", `/v1/schemas/${a}.x`]] as const) {
      expect((await api(method, path, method === "PUT" ? shape : undefined, { token })).status, `${method} ${path}`).toBe(403);
    }
  });
});

describe("consume grants that name groups", () => {
  async function stationWithGroups(): Promise<string> {
    const station = uniqueStation("grp");
    expect((await api("PUT", `/v1/stations/${station}`, {})).status).toBe(201);
    for (const group of ["billing", "shipping"]) expect((await api("PUT", `/v1/stations/${station}/groups/${group}`, {})).status).toBe(201);
    expect((await produce(station, { messages: [{ body: { n: 1 } }, { body: { n: 2 } }] })).status).toBe(200);
    return station;
  }

  it("reaches the named group only: fetch, ack, nack and subscribe on another are refused", async () => {
    const station = await stationWithGroups();
    const token = await signToken({ grants: [{ stations: [station], groups: ["billing"], actions: ["consume"] }] as any });
    const fetched = await api("POST", `/v1/stations/${station}/groups/billing/fetch`, { max: 2 }, { token });
    expect(fetched.status).toBe(200);
    expect(fetched.body.messages).toHaveLength(2);
    expect((await api("POST", `/v1/stations/${station}/groups/billing/ack`, { offsets: [1] }, { token })).status).toBe(200);
    // shipping's messages are leased to its own consumer by the admin; billing's token cannot settle them.
    expect((await api("POST", `/v1/stations/${station}/groups/shipping/fetch`, { max: 2 })).body.messages).toHaveLength(2);
    for (const op of ["fetch", "ack", "nack"]) {
      const res = await api("POST", `/v1/stations/${station}/groups/shipping/${op}`, op === "fetch" ? {} : { offsets: [1, 2] }, { token });
      expect(res.status, op).toBe(403);
      expect(res.body.error).toMatchObject({ code: "forbidden", action: "consume", station, group: "shipping" });
    }
    const shipping = await api("GET", `/v1/stations/${station}/groups/shipping`);
    expect(shipping.body).toMatchObject({ pending: 2, acked: 0 });
    const upgrade = (group: string) =>
      (exports as any).default.fetch(
        new Request(`https://waystation.test/v1/stations/${station}/groups/${group}/subscribe`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
      ) as Promise<Response>;
    expect((await upgrade("shipping")).status).toBe(403);
    const open = await upgrade("billing");
    expect(open.status).toBe(101);
    open.webSocket!.accept();
    open.webSocket!.close();
  });

  it("is minted by POST /v1/tokens with groups and schemas, and refuses empty or malformed patterns", async () => {
    const station = await stationWithGroups();
    const minted = await mintViaApi({ sub: "billing-app", grants: [{ stations: [station], groups: ["billing"], schemas: ["billing.*"], actions: ["consume"] }] });
    expect(minted.status).toBe(201);
    expect(minted.body.claims.grants[0]).toEqual({ stations: [station], groups: ["billing"], schemas: ["billing.*"], actions: ["consume"] });
    const token = minted.body.token;
    expect((await api("POST", `/v1/stations/${station}/groups/billing/fetch`, {}, { token })).status).toBe(200);
    expect((await api("POST", `/v1/stations/${station}/groups/shipping/fetch`, {}, { token })).status).toBe(403);
    for (const grant of [{ groups: [] }, { groups: ["Bad Group"] }, { schemas: ["x*"] }]) {
      const res = await mintViaApi({ sub: "x", grants: [{ stations: [station], actions: ["consume"], ...grant }] });
      expect(res.status, JSON.stringify(grant)).toBe(422);
    }
  });
});

describe("TOKEN_AUDIENCE and TOKEN_ISSUER", () => {
  const AUDIENCE = "waystation-test";
  const ISSUER = "https://auth.example";
  const app = buildApp();

  async function call(token: string, vars: Record<string, string>) {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("https://waystation.test/v1/stations", { headers: { authorization: `Bearer ${token}` } }),
      { ...(env as object), ...vars } as any,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return { status: res.status, body: (await res.json()) as any };
  }

  it("refuses a token whose aud or iss does not match, and takes one that does", async () => {
    const vars = { TOKEN_AUDIENCE: AUDIENCE, TOKEN_ISSUER: ISSUER };
    const cases: Array<[Record<string, unknown>, number, string?]> = [
      [{}, 401, "wrong_issuer"],
      [{ iss: ISSUER }, 401, "wrong_audience"],
      [{ aud: "another-service", iss: ISSUER }, 401, "wrong_audience"],
      [{ aud: AUDIENCE }, 401, "wrong_issuer"],
      [{ aud: AUDIENCE, iss: "https://evil.example" }, 401, "wrong_issuer"],
      [{ aud: AUDIENCE, iss: ISSUER }, 200],
      [{ aud: ["other", AUDIENCE], iss: ISSUER }, 200],
    ];
    for (const [claims, status, reason] of cases) {
      const res = await call(await signToken({ claims }), vars);
      expect(res.status, JSON.stringify(claims)).toBe(status);
      if (reason) expect(res.body.error).toMatchObject({ code: "unauthorized", reason });
    }
  });

  it("checks neither when unset, and puts both in the tokens it mints when set", async () => {
    expect((await call(await signToken({ claims: { aud: "anyone", iss: "anyone" } }), {})).status).toBe(200);
    const ctx = createExecutionContext();
    const minted = await app.fetch(
      new Request("https://waystation.test/v1/tokens", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ sub: "svc", grants: [{ stations: ["*"], actions: ["consume"] }] }),
      }),
      { ...(env as object), TOKEN_AUDIENCE: AUDIENCE, TOKEN_ISSUER: ISSUER } as any,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(minted.status).toBe(201);
    const body = (await minted.json()) as any;
    expect(body.claims).toMatchObject({ aud: AUDIENCE, iss: ISSUER });
    expect((await call(body.token, { TOKEN_AUDIENCE: AUDIENCE, TOKEN_ISSUER: ISSUER })).status).toBe(200);
    expect((await call(body.token, { TOKEN_AUDIENCE: "elsewhere" })).body.error.reason).toBe("wrong_audience");
  });
});
