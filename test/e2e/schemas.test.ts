// Schemas end to end against wrangler dev: versions added, attached to stations, violated in
// single and batch produce with and without the DLS option; and in Chromium, an offline enqueue
// that violates the schema is rejected at once from the copy the SDK cached in IndexedDB.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openSdkPage, pendingCount, readStation, serveSdkPage, startClient, waitUntil } from "./sdk-browser";
import { apiClient, removeStateDir, type RunningWorker, startWorker } from "./wrangler-dev";

const TODO = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["todo"],
  properties: { todo: { type: "string", minLength: 1 }, done: { type: "boolean" } },
  additionalProperties: false,
};

describe("schemas against wrangler dev", () => {
  let worker: RunningWorker;
  let browser: Browser;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    [worker, browser] = await Promise.all([startWorker(), launchChromium()]);
    api = apiClient(worker);
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  it("adds versions, refuses a bad schema, and enforces the station's schema: whole batches without seq, each message with seq", async () => {
    expect((await api("PUT", "/v1/schemas/todo", { schema: TODO, description: "a todo" })).status).toBe(201);
    expect((await api("PUT", "/v1/schemas/todo", { schema: TODO })).body.version).toBe(2);
    expect((await api("PUT", "/v1/schemas/todo", { schema: TODO })).status).toBe(200);
    const bad = await api("PUT", "/v1/schemas/broken", { schema: { type: "object", properties: { a: { minLength: "x" } } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("invalid_schema");
    expect((await api("GET", "/v1/schemas/todo")).body.versions).toHaveLength(2);

    expect((await api("PUT", "/v1/stations/e2e-todos", { schema: { name: "todo", version: "latest" } })).status).toBe(201);
    // Without seq, a batch with a failing message is refused whole.
    const single = await api("POST", "/v1/stations/e2e-todos/messages", { messages: [{ body: { todo: "" } }] });
    expect(single.status).toBe(422);
    expect(single.body.error).toMatchObject({ code: "schema_violation", violations: [{ index: 0, path: "/todo", keyword: "minLength" }] });
    const batch = await api("POST", "/v1/stations/e2e-todos/messages", { messages: [{ body: { todo: "a" } }, { body: { todo: "b", extra: 1 } }, { body: { todo: "c" } }] });
    expect(batch.status).toBe(422);
    expect(batch.body.error.violations.map((v: any) => v.index)).toEqual([1]);
    expect(await readStation(worker, "e2e-todos")).toHaveLength(0);

    // With seq, the failing message is ruled refused (its seq consumed) and the others stored.
    const ruled = await api("POST", "/v1/stations/e2e-todos/messages", {
      producer: "p",
      messages: [{ seq: 1, body: { todo: "a" } }, { seq: 2, body: { todo: "b", extra: 1 } }, { seq: 3, body: { todo: "c" } }],
    });
    expect(ruled.status).toBe(200);
    expect(ruled.body.results[0]).toEqual({ seq: 1, partition: 0, offset: 1, duplicate: false });
    expect(ruled.body.results[1]).toMatchObject({ seq: 2, partition: 0, offset: null, duplicate: false, refused: { code: "schema_violation", violations: [{ path: "/extra" }] } });
    expect(ruled.body.results[2]).toEqual({ seq: 3, partition: 0, offset: 2, duplicate: false });
    expect(await readStation(worker, "e2e-todos")).toHaveLength(2);
  });

  it("refuses an incompatible version with 409, and judges a message stamped v1 by v1 after a stricter v2", async () => {
    const open = { type: "object", required: ["todo"], properties: { todo: { type: "string" } } };
    expect((await api("PUT", "/v1/schemas/e2e-evolve", { schema: open })).body).toMatchObject({ version: 1, compatibility: "backward" });
    const stricter = { ...open, required: ["todo", "due"] };
    const refused = await api("PUT", "/v1/schemas/e2e-evolve", { schema: stricter });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "incompatible_schema", breaks: [{ path: "/required", rule: "required_added" }] });
    expect((await api("PUT", "/v1/stations/e2e-evolve", { schema: { name: "e2e-evolve", version: "latest" } })).status).toBe(201);
    // Forward lets the stricter version in; a message checked under v1 is still judged by v1.
    expect((await api("PUT", "/v1/schemas/e2e-evolve", { schema: stricter, compatibility: "forward" })).body.version).toBe(2);
    const res = await api("POST", "/v1/stations/e2e-evolve/messages", {
      producer: "e2e",
      messages: [{ seq: 1, body: { todo: "queued under v1" }, schemaVersion: 1, schemaName: "e2e-evolve" }, { seq: 2, body: { todo: "unstamped" } }],
    });
    expect(res.body.results[0]).toEqual({ seq: 1, partition: 0, offset: 1, duplicate: false });
    expect(res.body.results[1].refused).toMatchObject({ code: "schema_violation", schema: { name: "e2e-evolve", version: 2 } });
    expect((await api("GET", "/v1/stations/e2e-evolve/messages")).body.messages[0].schemaVersion).toBe(1);
  });

  it("sends failing messages to the DLS with dls.onSchemaFailure and stores the rest", async () => {
    await api("PUT", "/v1/stations/e2e-todos-dls", { schema: { name: "todo", version: 1 }, dls: { onSchemaFailure: true } });
    const res = await api("POST", "/v1/stations/e2e-todos-dls/messages", {
      producer: "p",
      messages: [{ seq: 1, body: { todo: "a" } }, { seq: 2, body: { todo: 2 } }],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: false },
      { seq: 2, partition: 0, offset: null, duplicate: false, deadLettered: true },
    ]);
    const dls = await api("GET", "/v1/stations/e2e-todos-dls/dls");
    expect(dls.body.deadLetters).toMatchObject([{ offset: null, group: null, reason: "schema_violation", message: { seq: 2, body: { todo: 2 } } }]);
  });

  it("rejects an offline enqueue that violates the schema at once in Chromium, queueing nothing", async () => {
    await api("PUT", "/v1/stations/browser-todos", { schema: { name: "todo" } });
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    const page = await openSdkPage(context, worker);
    await startClient(page, worker.token, { backoffBaseMs: 200, backoffMaxMs: 1000 });
    // Online once: the SDK fetches the station's schema and keeps it in IndexedDB.
    await page.evaluate(() => (window as any).ws.station("browser-todos").enqueue({ todo: "online" }));
    await waitUntil(async () => (await pendingCount(page)) === 0, "the online action to sync");

    await context.setOffline(true);
    await page.reload();
    await startClient(page, worker.token, { backoffBaseMs: 200, backoffMaxMs: 1000 });
    const refused = await page.evaluate(async () => {
      try {
        await (window as any).ws.station("browser-todos").enqueue({ todo: 7 });
        return { rejected: false };
      } catch (e: any) {
        return { rejected: true, name: e.name, code: e.code, details: e.details };
      }
    });
    expect(refused).toMatchObject({ rejected: true, name: "WaystationError", code: "schema_violation", details: { local: true, violations: [{ path: "/todo" }] } });
    const queued = await page.evaluate(() => (window as any).ws.station("browser-todos").enqueue({ todo: "offline", done: false }));
    expect(queued.seq).toBe(2);
    expect(await pendingCount(page)).toBe(1);

    await context.setOffline(false);
    await waitUntil(async () => (await pendingCount(page)) === 0, "the offline action to sync");
    const stored = await readStation(worker, "browser-todos");
    expect(stored.map((m) => m.body)).toEqual([{ todo: "online" }, { todo: "offline", done: false }]);
    await context.close();
  });
});
