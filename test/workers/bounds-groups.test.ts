// What a caller can create (issue 14 item 4) and the group service's in-memory state (item 11):
// only the manage right creates a group, a consumer's fetch, subscribe, ack or nack of an
// unknown group is 404 and creates nothing; groups, schemas and stations per token prefix are
// capped; syncedHead is forgotten with a rolled-back transaction; hostile floods grow nothing.
import { exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_GROUPS_PER_STATION, MAX_SCHEMAS, MAX_WAITING_FETCHES } from "../../shared/limits";
import { ADMIN, scopedPrincipal } from "../../worker/auth/principal";
import { tokenPrefixOf } from "../../worker/routes/stations";
import { api, createStation, uniqueStation } from "./helpers";
import { createGroups, fireAlarm, groupInfo, produceN, stationStub, stationWith, take } from "./groups-helpers";
import { bindings } from "./schemas-helpers";
import { grantToken } from "./token-helpers";

const path = (station: string, group: string) => `/v1/stations/${station}/groups/${group}`;

async function groupsIn(station: string): Promise<{ groups: number; consumers: number; waiters: number; sockets: number }> {
  const run = runInDurableObject as unknown as (stub: unknown, fn: (instance: any, state: DurableObjectState) => unknown) => Promise<any>;
  return run(stationStub(station), (instance: any, state) => ({
    groups: state.storage.sql.exec("SELECT count(*) AS n FROM groups").one().n as number,
    consumers: state.storage.sql.exec("SELECT count(*) AS n FROM group_consumers").one().n as number,
    waiters: instance.groups.waiters.size as number,
    sockets: state.getWebSockets().length,
  }));
}

describe("only the manage right creates a group", () => {
  it("answers a consume-only token's fetch, ack, nack and subscribe of an unknown group with 404 and creates nothing", async () => {
    const station = await stationWith(3, { retention: { untilAcked: true } });
    const token = await grantToken([station], ["consume"]);
    const as = { token };
    for (const [method, suffix, body] of [
      ["POST", "fetch", { consumer: "c" }],
      ["POST", "fetch", { consumer: "c", waitMs: 5000 }],
      ["POST", "ack", { offsets: [1] }],
      ["POST", "nack", { offsets: [1] }],
    ] as const) {
      const res = await api(method, `${path(station, "intruder")}/${suffix}`, body, as);
      expect(res.status, `${suffix} ${JSON.stringify(res.body)}`).toBe(404);
      expect(res.body.error).toMatchObject({ code: "group_not_found", group: "intruder" });
    }
    const socket = await (exports as any).default.fetch(
      new Request(`https://waystation.test${path(station, "intruder")}/subscribe?credit=5`, { headers: { authorization: `Bearer ${token}`, upgrade: "websocket" } }),
    );
    expect(socket.status).toBe(404);
    expect((await socket.json()).error.code).toBe("group_not_found");
    // Creating it takes manage: the consume-only token is refused, the PUT of a manager works.
    expect((await api("PUT", path(station, "intruder"), {}, as)).status).toBe(403);
    expect((await api("GET", path(station, "intruder"))).status).toBe(404);
    expect((await api("GET", `/v1/stations/${station}`)).body.groups).toEqual([]);
    expect(await groupsIn(station)).toEqual({ groups: 0, consumers: 0, waiters: 0, sockets: 0 });
    // Nothing was pinned under untilAcked: the station trims as soon as a real group acks.
    await createGroups(station, ["real"], { start: "earliest" });
    const got = await take(station, "real", "c", 10);
    expect((await api("POST", `${path(station, "real")}/ack`, { offsets: got.map((m) => m.offset) }, as)).body).toEqual({ acked: 3 });
    expect((await api("GET", `/v1/stations/${station}`)).body.stats.messages).toBe(0);
  });

  it("creates with PUT (201, then 200) and deletes with DELETE", async () => {
    const station = await stationWith(2);
    const manager = { token: await grantToken([station], ["manage"]) };
    const created = await api("PUT", path(station, "g"), { start: "latest", ackTimeoutMs: 500, maxDeliveries: 2 }, manager);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "g", start: "latest", ackTimeoutMs: 500, maxDeliveries: 2, nextOffset: 3 });
    expect((await api("PUT", path(station, "g"), { maxDeliveries: 3 }, manager)).status).toBe(200);
    expect((await api("DELETE", path(station, "g"), undefined, manager)).body).toEqual({ name: "g", deleted: true });
    expect((await api("POST", `${path(station, "g")}/fetch`, {})).status).toBe(404);
  });
});

describe("caps", () => {
  it(`refuses group ${MAX_GROUPS_PER_STATION + 1} of a station with 409 too_many_groups`, async () => {
    const station = await createStation();
    for (let start = 0; start < MAX_GROUPS_PER_STATION; start += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => api("PUT", path(station, `g${start + i}`), {})));
    }
    const over = await api("PUT", path(station, "one-more"), {});
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({ code: "too_many_groups", max: MAX_GROUPS_PER_STATION });
    expect((await api("PUT", path(station, "g0"), { maxDeliveries: 2 })).status).toBe(200);
    expect((await api("GET", `/v1/stations/${station}`)).body.groups).toHaveLength(MAX_GROUPS_PER_STATION);
    expect((await api("DELETE", path(station, "g0"))).status).toBe(200);
    expect((await api("PUT", path(station, "one-more"), {})).status).toBe(201);
  }, 60_000);

  it("counts stations under a token's prefix and refuses past the cap with too_many_stations", async () => {
    const catalog: any = bindings.CATALOG.get(bindings.CATALOG.idFromName("catalog"));
    const prefix = `${uniqueStation("cap")}.`;
    const entry = (name: string) => ({ name, config: {}, createdAt: 1, updatedAt: 1 });
    for (let i = 0; i < 3; i++) expect((await catalog.reserveStation(entry(`${prefix}s${i}`), prefix, 3)).ok).toBe(true);
    const over = await catalog.reserveStation(entry(`${prefix}s3`), prefix, 3);
    expect(over).toMatchObject({ ok: false, error: { code: "too_many_stations", prefix, max: 3 } });
    // An update of a listed station is no new station; a sibling prefix is counted apart.
    expect((await catalog.reserveStation(entry(`${prefix}s1`), prefix, 3)).value).toEqual({ reserved: false });
    expect((await catalog.reserveStation(entry(`${prefix}x-other`), `${prefix}x.`, 3)).ok).toBe(true);
  });

  it(`refuses schema ${MAX_SCHEMAS + 1} of the deployment with 409 too_many_schemas, and still takes versions`, async () => {
    const catalog: any = bindings.CATALOG.get(bindings.CATALOG.idFromName("catalog"));
    const add = (name: string, n: number) => catalog.addSchema(name, { draft: "2020-12", text: JSON.stringify({ type: "object", $comment: `v${n}` }), description: null });
    const existing = ((await catalog.listSchemas()) as unknown[]).length;
    for (let start = existing; start < MAX_SCHEMAS; start += 100) {
      await Promise.all(Array.from({ length: Math.min(100, MAX_SCHEMAS - start) }, (_, i) => add(`cap-schema-${start + i}`, 0)));
    }
    const over = await add("cap-schema-one-more", 0);
    expect(over).toMatchObject({ ok: false, error: { code: "too_many_schemas", max: MAX_SCHEMAS } });
    expect((await add("cap-schema-0", 1)).ok).toBe(true);
    const res = await api("PUT", "/v1/schemas/cap-schema-over-http", { schema: { type: "object" } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("too_many_schemas");
  }, 120_000);

  it("takes a scoped token's prefix from its wildcard grant", () => {
    const principal = (stations: string[]) => scopedPrincipal({ sub: "t", exp: 2 ** 31, grants: [{ stations, actions: ["manage"] }] } as any);
    expect(tokenPrefixOf(ADMIN, "a.b")).toBeNull();
    expect(tokenPrefixOf(principal(["*"]), "a.b")).toBe("");
    expect(tokenPrefixOf(principal(["t7.*"]), "t7.orders.eu")).toBe("t7.");
    expect(tokenPrefixOf(principal(["t7.orders.*"]), "t7.orders.eu")).toBe("t7.orders.");
    expect(tokenPrefixOf(principal(["t7.orders"]), "t7.orders")).toBeNull();
  });

  it("lets a scoped token create and update stations under its prefix through PUT", async () => {
    const prefix = uniqueStation("tenant");
    const token = await grantToken([`${prefix}.*`], ["manage"]);
    expect((await api("PUT", `/v1/stations/${prefix}.a`, {}, { token })).status).toBe(201);
    expect((await api("PUT", `/v1/stations/${prefix}.a`, { maxDeliveries: 2 }, { token })).status).toBe(200);
    const listed = await api("GET", "/v1/stations", undefined, { token });
    expect(listed.body.stations.map((s: any) => s.name)).toEqual([`${prefix}.a`]);
  });
});

describe("syncedHead", () => {
  it("is forgotten when the transaction that moved it rolls back, so groups still skip what retention trimmed", async () => {
    const station = await stationWith(0, { retention: { maxMessages: 2 } });
    await createGroups(station, ["g"]);
    await produceN(station, 5);
    await fireAlarm(station); // retention trims offsets 1-3; the group has not caught up yet
    // A describe of an unknown group prepares every group (skips 1-3), then rolls back with 404.
    expect((await api("GET", path(station, "unknown"))).status).toBe(404);
    expect(await groupInfo(station, "g")).toMatchObject({ nextOffset: 4, skipped: 3, ackFloor: 3 });
    expect((await take(station, "g", "c", 10)).map((m) => m.offset)).toEqual([4, 5]);
  });
});

describe("memory under hostile floods", () => {
  it("grows no table or map of the station under 10,000 fetches, acks, nacks and subscribes of unknown groups", async () => {
    const station = await stationWith(2, { rateLimit: { requestsPerSecond: 1_000_000, bytesPerSecond: 1024 * 1024 * 1024 } });
    const token = await grantToken([station], ["consume"], { claims: { limits: { requestsPerSecond: 1_000_000, bytesPerSecond: 1_000_000_000 } } });
    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    // Through the Worker, as a client with a consume-only token: each kind of request, 100 times.
    const kinds = ["fetch", "ack", "nack", "subscribe"] as const;
    await Promise.all(
      Array.from({ length: 400 }, async (_, n) => {
        const kind = kinds[n % kinds.length]!;
        const url = `https://waystation.test${path(station, `flood-${n}`)}/${kind}`;
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        const init: RequestInit =
          kind === "subscribe"
            ? { headers: { ...headers, upgrade: "websocket" } }
            : { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(kind === "fetch" ? { consumer: `c${n}`, waitMs: 30_000 } : { offsets: [1] }) };
        const res: Response = await (exports as any).default.fetch(new Request(kind === "subscribe" ? `${url}?consumer=c${n}&credit=10` : url, init));
        await res.body?.cancel();
        count(String(res.status));
      }),
    );
    // Straight at the object, as the Worker forwards them: the other 9,600.
    const stub: any = stationStub(station);
    for (let start = 400; start < 10_000; start += 400) {
      await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          const n = start + i;
          const group = `flood-${n}`;
          const result = n % 3 === 0 ? await stub.groupFetch(group, `c${n}`, 10, 30_000) : n % 3 === 1 ? await stub.groupAck(group, [1, 2]) : await stub.groupNack(group, [1], 0);
          count(result.ok ? "ok" : result.error.code);
        }),
      );
    }
    expect(Object.fromEntries(statuses)).toEqual({ "404": 400, group_not_found: 9600 });
    expect(await groupsIn(station)).toEqual({ groups: 0, consumers: 0, waiters: 0, sockets: 0 });
  }, 120_000);

  it(`keeps at most ${MAX_WAITING_FETCHES} long-polls waiting; more answer at once`, async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    const run = runInDurableObject as unknown as (stub: unknown, fn: (instance: any) => Promise<unknown>) => Promise<unknown>;
    const counts = await run(stationStub(station), async (instance: any) => {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < MAX_WAITING_FETCHES + 50; i++) pending.push(instance.groupFetch("g", `c${i}`, 1, 1000));
      // Let each call reach its wait (or its answer) before counting.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const waiting = instance.groups.waiters.size as number;
      const answers = await Promise.all(pending);
      return { waiting, answered: answers.length, after: instance.groups.waiters.size as number };
    });
    expect(counts).toEqual({ waiting: MAX_WAITING_FETCHES, answered: MAX_WAITING_FETCHES + 50, after: 0 });
  }, 60_000);
});
