// The SDK's own schema check on fake-indexeddb: a body the station's schema refuses is rejected by
// enqueue() at once, before anything is queued, from the schema cached in IndexedDB even offline;
// a stale or missing cache never blocks, and a version the station reports refreshes the cache.
import { http } from "msw";
import { openDB } from "idb";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Client, WaystationError } from "../../../client/index";
import { json } from "./fake-station";
import { BASE_URL, makeClient, startStationServer, waitFor } from "./helpers";

const TODO_V1 = { type: "object", required: ["todo"], properties: { todo: { type: "string" } } };
const TODO_V2 = { type: "object", required: ["todo", "done"], properties: { todo: { type: "string" }, done: { type: "boolean" } } };

const server = startStationServer();
/** The schema each station answers GET …/schema with; absent: none. */
const schemas = new Map<string, { name: string; version: number; schema: unknown }>();
let schemaRequests = 0;
server.server.use(
  http.get(`${BASE_URL}/v1/stations/:station/schema`, ({ params }) => {
    schemaRequests++;
    const station = String(params.station);
    const current = schemas.get(station);
    return json(200, { station, schema: current ? { ...current, follows: "latest", draft: "2020-12" } : null });
  }),
);

const clients: Client[] = [];
let dbCounter = 0;
function client(options: Parameters<typeof makeClient>[0] = {}): Client {
  const c = makeClient({ dbName: `schema-check-${process.pid}-${++dbCounter}`, ...options });
  clients.push(c);
  return c;
}

/** A fetch with no network at all. */
const offline: typeof fetch = async () => {
  throw new TypeError("Failed to fetch (offline)");
};

async function rejection(promise: Promise<unknown>): Promise<WaystationError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof WaystationError) return e;
    throw e;
  }
  throw new Error("expected a rejection");
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.refuse = () => undefined;
});
afterAll(() => server.close());

describe("schema check before enqueue", () => {
  it("rejects a failing body at once with a typed schema_violation, queueing nothing", async () => {
    schemas.set("todos-a", { name: "todo", version: 1, schema: TODO_V1 });
    const c = client();
    const todos = c.station("todos-a");
    const refused = await rejection(todos.enqueue({ todo: 42 }));
    expect(refused.code).toBe("schema_violation");
    expect(refused.status).toBe(0);
    expect(refused.details).toMatchObject({
      local: true,
      schema: { name: "todo", version: 1 },
      violationCount: 1,
      violations: [{ index: 0, path: "/todo", keyword: "type" }],
    });
    expect(await todos.pending()).toEqual([]);
    expect((await todos.enqueue({ todo: "milk" })).seq).toBe(1);
    await waitFor(async () => (await todos.pending()).length === 0, "the valid action to sync");
    expect(server.station("todos-a").log.map((m) => m.body)).toEqual([{ todo: "milk" }]);
  });

  it("stamps an action that passed with the schema version it was checked against; an unchecked one goes unstamped", async () => {
    schemas.set("todos-stamp", { name: "todo", version: 3, schema: TODO_V1 });
    const sent: Array<Record<string, unknown>> = [];
    const spying: typeof fetch = async (input, init) => {
      if (String(input).endsWith("/messages") && typeof init?.body === "string") sent.push(...(JSON.parse(init.body).messages as Array<Record<string, unknown>>));
      return fetch(input, init);
    };
    const c = client({ fetch: spying });
    await c.station("todos-stamp").enqueue({ todo: "milk" });
    await c.station("todos-plain").enqueue({ any: "thing" });
    await waitFor(async () => (await c.station("todos-stamp").pending()).length === 0 && (await c.station("todos-plain").pending()).length === 0, "both to sync");
    expect(sent.find((m) => (m.body as { todo?: string }).todo === "milk")).toMatchObject({ schemaName: "todo", schemaVersion: 3 });
    expect(sent.find((m) => (m.body as { any?: string }).any === "thing")).not.toHaveProperty("schemaVersion");
  });

  it("validates offline from the schema cached in IndexedDB by an earlier page", async () => {
    schemas.set("todos-b", { name: "todo", version: 1, schema: TODO_V1 });
    const dbName = `schema-offline-${process.pid}`;
    const online = client({ dbName });
    await online.station("todos-b").enqueue({ todo: "first" });
    await online.close();

    const requestsBefore = schemaRequests;
    const later = client({ dbName, fetch: offline });
    const refused = await rejection(later.station("todos-b").enqueue({ nope: true }));
    expect(refused.details).toMatchObject({ local: true, violations: [{ path: "", keyword: "required" }] });
    expect((await later.station("todos-b").enqueue({ todo: "second" })).seq).toBeGreaterThan(0);
    expect((await later.station("todos-b").pending()).map((p) => p.body)).toContainEqual({ todo: "second" });
    expect(schemaRequests).toBe(requestsBefore);
  });

  it("queues unchecked when no schema is cached and the station cannot be asked", async () => {
    schemas.set("todos-c", { name: "todo", version: 1, schema: TODO_V1 });
    const c = client({ fetch: offline });
    expect((await c.station("todos-c").enqueue({ todo: 42 })).seq).toBe(1);
    expect((await c.station("todos-c").pending()).map((p) => p.body)).toEqual([{ todo: 42 }]);
  });

  it("never lets a stale cache block: a refusal by an old copy is confirmed with the station first", async () => {
    const dbName = `schema-stale-${process.pid}`;
    // An hour-old copy of a strict schema; the station has since dropped its schema.
    const db = await openDB(`${dbName}-schemas`, 1, { upgrade: (d) => void d.createObjectStore("schemas", { keyPath: "key" }) });
    await db.put("schemas", {
      key: `${BASE_URL} todos-d`,
      schema: { name: "todo", version: 1, follows: "latest", draft: "2020-12", schema: TODO_V1 },
      fetchedAt: Date.now() - 3_600_000,
    });
    db.close();
    schemas.delete("todos-d");
    const c = client({ dbName });
    expect((await c.station("todos-d").enqueue({ anything: true })).seq).toBe(1);
  });

  it("keeps the cached verdict of an old copy when the station cannot be asked", async () => {
    const dbName = `schema-old-offline-${process.pid}`;
    const db = await openDB(`${dbName}-schemas`, 1, { upgrade: (d) => void d.createObjectStore("schemas", { keyPath: "key" }) });
    await db.put("schemas", {
      key: `${BASE_URL} todos-g`,
      schema: { name: "todo", version: 3, follows: "fixed", draft: "2020-12", schema: TODO_V1 },
      fetchedAt: Date.now() - 3_600_000,
    });
    db.close();
    const c = client({ dbName, fetch: offline });
    const refused = await rejection(c.station("todos-g").enqueue({ todo: false }));
    expect(refused.details).toMatchObject({ local: true, schema: { name: "todo", version: 3 } });
    expect(await c.station("todos-g").pending()).toEqual([]);
  });

  it("refreshes its copy when the station reports a newer version", async () => {
    schemas.set("todos-e", { name: "todo", version: 1, schema: TODO_V1 });
    const c = client();
    const todos = c.station("todos-e");
    await todos.enqueue({ todo: "a" });
    await waitFor(async () => (await todos.pending()).length === 0, "the first action to sync");

    // v2 arrives at the station; this page still holds v1 and lets {todo} through.
    schemas.set("todos-e", { name: "todo", version: 2, schema: TODO_V2 });
    // The station's ruling on the seq: refused in a 200, naming the schema version.
    server.state.refuse = (_station, body) =>
      json(200, {
        results: body.messages.map((m) => ({
          seq: m.seq,
          partition: 0,
          offset: null,
          duplicate: false,
          refused: { code: "schema_violation", message: "fails v2", schema: { name: "todo", version: 2 }, violations: [{ path: "", keyword: "required", schemaPath: "/required", reason: "done" }] },
        })),
      });
    const rejected = new Promise<void>((resolve) => todos.on("rejected", () => resolve()));
    await todos.enqueue({ todo: "b" });
    await rejected;
    server.state.refuse = () => undefined;

    await waitFor(async () => {
      const e = await rejection(todos.enqueue({ todo: "c" })).catch(() => null);
      return e?.details.schema !== undefined && (e.details.schema as { version: number }).version === 2;
    }, "the local check to use v2");
    expect((await todos.enqueue({ todo: "d", done: true })).seq).toBeGreaterThan(0);
  });

  it("keeps enqueue order while checking, refusing only the failing bodies", async () => {
    schemas.set("todos-f", { name: "todo", version: 1, schema: TODO_V1 });
    server.faults.push(...Array(20).fill({ kind: "network" }));
    const todos = client({ backoffBaseMs: 10_000, backoffMaxMs: 10_000 }).station("todos-f");
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => todos.enqueue(i % 5 === 2 ? { todo: i } : { todo: `t${i}` })));
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(4);
    const seqs = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.seq] : []));
    expect(seqs).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const queued = (await todos.pending()).map((p) => (p.body as { todo: string }).todo);
    expect(queued).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 5 !== 2).map((i) => `t${i}`));
  });
});
