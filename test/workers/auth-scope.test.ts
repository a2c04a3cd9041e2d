// Token scoping: a token reaches only the stations its patterns name, with only the actions its
// grants list, on every route that names a station — and listings show only what it may see.
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { api, createStation, produce, uniqueStation } from "./helpers";
import { grantToken, signToken } from "./token-helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

const body = { messages: [{ body: { n: 1 } }] };

describe("actions", () => {
  it("lets a produce-only token produce, and nothing else", async () => {
    const station = await createStation();
    const token = await grantToken([station], ["produce"]);
    expect((await api("POST", `/v1/stations/${station}/messages`, body, { token })).status).toBe(200);
    for (const [method, path, payload] of [
      ["GET", `/v1/stations/${station}/messages`],
      ["GET", `/v1/stations/${station}`],
      ["PUT", `/v1/stations/${station}`, {}],
      ["DELETE", `/v1/stations/${station}`],
    ] as const) {
      const res = await api(method, path, payload, { token });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error).toMatchObject({ code: "forbidden", station });
    }
  });

  it("lets a consume-only token read, and not produce", async () => {
    const station = await createStation();
    await produce(station, body);
    const token = await grantToken([station], ["consume"]);
    const read = await api("GET", `/v1/stations/${station}/messages`, undefined, { token });
    expect(read.status).toBe(200);
    expect(read.body.messages).toHaveLength(1);
    const res = await api("POST", `/v1/stations/${station}/messages`, body, { token });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "forbidden", action: "produce" });
  });

  it("lets a manage token create, describe and delete, but not produce", async () => {
    const station = uniqueStation("managed");
    const token = await grantToken([station], ["manage"]);
    expect((await api("PUT", `/v1/stations/${station}`, {}, { token })).status).toBe(201);
    expect((await api("GET", `/v1/stations/${station}`, undefined, { token })).status).toBe(200);
    expect((await api("POST", `/v1/stations/${station}/messages`, body, { token })).status).toBe(403);
    expect((await api("DELETE", `/v1/stations/${station}`, undefined, { token })).status).toBe(200);
  });

  it("adds up several grants of one token", async () => {
    const a = await createStation();
    const b = await createStation();
    const token = await signToken({ grants: [{ stations: [a], actions: ["produce"] }, { stations: [b], actions: ["consume"] }] });
    expect((await api("POST", `/v1/stations/${a}/messages`, body, { token })).status).toBe(200);
    expect((await api("GET", `/v1/stations/${b}/messages`, undefined, { token })).status).toBe(200);
    expect((await api("GET", `/v1/stations/${a}/messages`, undefined, { token })).status).toBe(403);
    expect((await api("POST", `/v1/stations/${b}/messages`, body, { token })).status).toBe(403);
  });
});

describe("station patterns", () => {
  it("reaches every station below a prefix with name.*, but not the prefix itself or look-alikes", async () => {
    const base = uniqueStation("tenant");
    const token = await grantToken([`${base}.*`], ["produce"]);
    for (const reached of [`${base}.eu`, `${base}.eu.west`]) {
      await createStation({}, reached);
      expect((await api("POST", `/v1/stations/${reached}/messages`, body, { token })).status, reached).toBe(200);
    }
    for (const refused of [base, `${base}x`, `${base}-eu`, `x${base}.eu`]) {
      await createStation({}, refused);
      expect((await api("POST", `/v1/stations/${refused}/messages`, body, { token })).status, refused).toBe(403);
    }
  });

  it("never lets a token of one station touch another, on any route that names a station", async () => {
    const mine = await createStation();
    const theirs = await createStation();
    await produce(theirs, body);
    const before = (await api("GET", `/v1/stations/${theirs}/messages`)).body;
    const token = await grantToken([mine], ["produce", "consume", "manage"]);
    const routes = buildApp().routes.filter((route) => route.method !== "ALL" && route.path.includes(":station"));
    expect(routes.length).toBeGreaterThan(4);
    for (const route of routes) {
      const path = route.path.replace(":station", theirs).replace(/:[a-z]+/gi, "x1");
      const res = await api(route.method, path, route.method === "GET" || route.method === "DELETE" ? undefined : {}, { token });
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect((await api("GET", `/v1/stations/${theirs}/messages`)).body).toEqual(before);
  });
});

describe("routes that name no station", () => {
  it("lists only the stations a token can see", async () => {
    const prefix = uniqueStation("listed");
    const seen = await createStation({}, `${prefix}.a`);
    const alsoSeen = await createStation({}, `${prefix}.b`);
    const hidden = await createStation();
    const token = await signToken({ grants: [{ stations: [`${prefix}.*`], actions: ["consume"] }] });
    const res = await api("GET", "/v1/stations", undefined, { token });
    expect(res.status).toBe(200);
    const names = res.body.stations.map((s: { name: string }) => s.name);
    expect(names).toEqual(expect.arrayContaining([seen, alsoSeen]));
    expect(names).not.toContain(hidden);
    expect(names.every((name: string) => name.startsWith(`${prefix}.`))).toBe(true);
  });

  it("keeps token minting to the admin even for a token with every grant", async () => {
    const token = await grantToken(["*"], ["produce", "consume", "manage"]);
    const res = await api("POST", "/v1/tokens", { sub: "x", grants: [{ stations: ["*"], actions: ["manage"] }] }, { token });
    expect(res.status).toBe(403);
  });
});

describe("schemas, reached like stations", () => {
  const schema = { schema: { type: "object" } };

  it("takes the admin, a manage grant on *, or a manage grant whose patterns name the schema; refuses the rest", async () => {
    const everywhere = await grantToken(["*"], ["manage"]);
    const name = uniqueStation("schema");
    expect((await api("PUT", `/v1/schemas/${name}`, schema, { token: everywhere })).status).toBe(201);
    expect((await api("GET", `/v1/schemas/${name}`, undefined, { token: everywhere })).status).toBe(200);
    // A grant without `schemas` reaches the schemas its station patterns name (here: exactly `name`).
    const exact = await grantToken([name], ["manage"]);
    expect((await api("PUT", `/v1/schemas/${name}`, schema, { token: exact })).status).toBe(200);
    expect((await api("GET", `/v1/schemas/${name}`, undefined, { token: exact })).status).toBe(200);
    for (const token of [await grantToken(["*"], ["produce", "consume"]), await grantToken([`${name}.*`], ["manage"])]) {
      for (const [method, path, payload] of [["PUT", `/v1/schemas/${name}`, schema], ["GET", `/v1/schemas/${name}`]] as const) {
        const res = await api(method, path, payload, { token });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.error).toMatchObject({ code: "forbidden", action: "manage" });
      }
    }
    // The list: refused without any manage grant, else only the schemas within reach.
    expect((await api("GET", "/v1/schemas", undefined, { token: await grantToken(["*"], ["produce", "consume"]) })).status).toBe(403);
    const narrow = await api("GET", "/v1/schemas", undefined, { token: await grantToken([`${name}.*`], ["manage"]) });
    expect(narrow.status).toBe(200);
    expect(narrow.body.schemas).toEqual([]);
  });
});
