// The served OpenAPI document as a contract: every route is driven inside workerd, and every
// answer, refusals included, must have its status documented for that operation and fit the
// document's schema for it (checked with @cfworker/json-schema, draft 2020-12). Last, every
// operation of the document must have been seen answering with success.
import { Validator } from "@cfworker/json-schema";
import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../worker/app";
import { ADMIN_TOKEN, api, type ApiResponse, uniqueStation } from "./helpers";
import { mockReceiver, waitFor } from "./webhook-helpers";

vi.setConfig({ testTimeout: 30_000 });

type Json = Record<string, any>;
let document: Json;
/** `GET /path` operations seen answering 2xx or 101. */
const succeeded = new Set<string>();
let checkedAnswers = 0;

beforeAll(async () => {
  const res = await api("GET", "/openapi.json", undefined, { token: null });
  expect(res.status).toBe(200);
  document = res.body;
}, 60_000); // the first request starts the worker

interface CallOptions {
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

/** Calls a route by its template and checks the answer against the document. */
async function call(method: string, template: string, options: CallOptions = {}): Promise<ApiResponse> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? `missing-${name}`));
  const res = await api(method, `${path}${options.query ?? ""}`, options.body, { token: options.token, headers: options.headers, raw: options.raw });
  checkAnswer(method, template, res.status, res.headers.get("content-type"), res.body);
  return res;
}

/** Status and body, so a failed expectation shows what the worker said. */
async function outcome(method: string, template: string, options: CallOptions = {}): Promise<{ status: number; body: unknown }> {
  const res = await call(method, template, options);
  return { status: res.status, body: res.body };
}

/** A WebSocket upgrade (the JSON helper would wait on a body that never ends). */
async function upgrade(template: string, params: Record<string, string>): Promise<number> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!);
  const res: Response & { webSocket?: WebSocket } = await (exports as any).default.fetch(
    new Request(`https://waystation.test${path}`, { headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` } }),
  );
  res.webSocket?.accept();
  res.webSocket?.close(1000, "done");
  checkAnswer("GET", template, res.status, res.headers.get("content-type"), res.status === 101 ? null : await res.json());
  return res.status;
}

function checkAnswer(method: string, template: string, status: number, contentType: string | null, body: unknown): void {
  const operation = document.paths[template]?.[method.toLowerCase()];
  expect(operation, `${method} ${template} is not in the document`).toBeDefined();
  let response = operation.responses[String(status)];
  expect(response, `${method} ${template} answered ${status}, not documented: ${JSON.stringify(body)}`).toBeDefined();
  if (response.$ref) response = document.components.responses[response.$ref.split("/").pop()];
  checkedAnswers += 1;
  if (status < 300) succeeded.add(`${method} ${template}`);
  if (!response.content) {
    expect(body ?? null, `${method} ${template} ${status} documents no body`).toBeNull();
    return;
  }
  const mediaType = contentType?.split(";")[0]!.trim() ?? "";
  expect(Object.keys(response.content), `${method} ${template} ${status} answered ${contentType}`).toContain(mediaType);
  if (mediaType !== "application/json") return;
  expectFits(response.content[mediaType].schema, body, `${method} ${template} ${status}`);
}

/** Validates `value` against a schema of the document, its `$ref`s resolved in the document's components. */
function expectFits(schema: Json, value: unknown, what: string): void {
  const root = JSON.parse(JSON.stringify({ ...schema, components: document.components }));
  const result = new Validator(root, "2020-12", false).validate(value);
  const errors = result.errors.map((e) => `${e.instanceLocation} ${e.keywordLocation}: ${e.error}`);
  expect(errors, `${what}: ${JSON.stringify(value).slice(0, 500)}`).toEqual([]);
}

const STATION = "/v1/stations/{station}";
const GROUP = `${STATION}/groups/{group}`;
const WEBHOOK = `${STATION}/webhooks/{webhook}`;

describe("the OpenAPI document as a contract", () => {
  it("health, the document itself, tokens and metrics", async () => {
    await call("GET", "/healthz", { token: null });
    await call("GET", "/openapi.json", { token: null });
    expect(await outcome("POST", "/v1/tokens", { body: { sub: "user:1", grants: [{ stations: ["a.*"], actions: ["produce"] }] } })).toMatchObject({ status: 201 });
    expect(await outcome("POST", "/v1/tokens", { body: { sub: "user:1", grants: [] } })).toMatchObject({ status: 422 });
    expect(await outcome("POST", "/v1/tokens", { body: { sub: "user:1" }, token: null })).toMatchObject({ status: 401 });
    expect(await outcome("POST", "/v1/tokens", { raw: "{", headers: { "content-type": "application/json" } })).toMatchObject({ status: 400 });
    expect(await outcome("GET", "/metrics")).toMatchObject({ status: 200 });
    expect(await outcome("GET", "/metrics", { token: "not-a-token" })).toMatchObject({ status: 401 });
  });

  it("stations: create, update, list, describe, delete, and their refusals", async () => {
    const station = uniqueStation("oa");
    const params = { station };
    expect(await outcome("PUT", STATION, { params, body: {} })).toMatchObject({ status: 201 });
    expect(await outcome("PUT", STATION, { params, body: { retention: { maxMessages: 100 } } })).toMatchObject({ status: 200 });
    expect(await outcome("PUT", STATION, { params, body: { retention: { maxMessages: 0 } } })).toMatchObject({ status: 422 });
    expect(await outcome("PUT", STATION, { params, body: { schema: { name: "no-such-schema" } } })).toMatchObject({ status: 404 });
    expect(await outcome("PUT", STATION, { params, raw: "{}", headers: { "content-type": "text/plain" } })).toMatchObject({ status: 415 });
    expect(await outcome("PUT", STATION, { params: { station: "Not_A_Name" }, body: {} })).toMatchObject({ status: 400 });
    expect(await outcome("GET", "/v1/stations")).toMatchObject({ status: 200 });
    expect(await outcome("GET", STATION, { params })).toMatchObject({ status: 200 });
    expect(await outcome("GET", STATION, { params, token: null })).toMatchObject({ status: 401 });
    expect(await outcome("DELETE", STATION, { params })).toMatchObject({ status: 200 });
    expect(await outcome("GET", STATION, { params })).toMatchObject({ status: 404 });
  });

  it("produce and replay, with rulings and refusals", async () => {
    const station = uniqueStation("oa");
    const params = { station };
    await call("PUT", STATION, { params, body: { maxMessageBytes: 64 } });
    const produce = (body: unknown) => call("POST", `${STATION}/messages`, { params, body });
    expect((await produce({ producer: "p1", messages: [{ seq: 1, body: { todo: "milk" } }, { seq: 2, body: "x".repeat(100) }] })).body.results[1].refused.code).toBe("message_too_large");
    expect((await produce({ producer: "p1", messages: [{ seq: 9, body: {} }] })).status).toBe(409);
    expect((await produce({ messages: [{ body: "x".repeat(100) }] })).status).toBe(413);
    expect((await produce({ messages: [] })).status).toBe(422);
    expect(await outcome("POST", `${STATION}/messages`, { params: { station: uniqueStation("none") }, body: { messages: [{ body: 1 }] } })).toMatchObject({ status: 404 });
    expect(await outcome("GET", `${STATION}/messages`, { params, query: "?from=1&limit=10" })).toMatchObject({ status: 200 });
    expect(await outcome("GET", `${STATION}/messages`, { params, query: "?from=abc" })).toMatchObject({ status: 422 });
    expect(await outcome("GET", `${STATION}/schema`, { params })).toMatchObject({ status: 200 });
  });

  it("consumer groups: config, fetch, ack, nack, subscribe, and the dead-letter station", async () => {
    const station = uniqueStation("oa");
    const params = { station, group: "billing" };
    await call("PUT", STATION, { params, body: { maxDeliveries: 1 } });
    await call("POST", `${STATION}/messages`, { params, body: { producer: "p1", messages: [{ seq: 1, body: 1 }, { seq: 2, body: 2 }] } });
    expect(await outcome("GET", GROUP, { params })).toMatchObject({ status: 404 });
    expect(await outcome("PUT", GROUP, { params, body: { start: "earliest" } })).toMatchObject({ status: 201 });
    expect(await outcome("PUT", GROUP, { params, body: { start: "earliest", ackTimeoutMs: 5_000 } })).toMatchObject({ status: 200 });
    expect(await outcome("PUT", GROUP, { params, body: { start: "latest" } })).toMatchObject({ status: 409 });
    expect(await outcome("GET", GROUP, { params })).toMatchObject({ status: 200 });
    const fetched = await call("POST", `${GROUP}/fetch`, { params, body: { consumer: "c1", max: 2 } });
    expect(fetched.body.messages.map((m: { offset: number }) => m.offset)).toEqual([1, 2]);
    expect(await outcome("POST", `${GROUP}/fetch`, { params, body: { max: 0 } })).toMatchObject({ status: 422 });
    // Lease extension, where the document describes it (the server client's route).
    if (document.paths[`${GROUP}/extend`]) {
      expect(await outcome("POST", `${GROUP}/extend`, { params, body: { consumer: "c1", offsets: [1] } })).toMatchObject({ status: 200 });
      expect(await outcome("POST", `${GROUP}/extend`, { params, body: { consumer: "c1" } })).toMatchObject({ status: 422 });
    }
    expect((await call("POST", `${GROUP}/ack`, { params, body: { offsets: [1] } })).body.acked).toBe(1);
    expect(await outcome("POST", `${GROUP}/ack`, { params, body: {} })).toMatchObject({ status: 422 });
    // Delivered once with maxDeliveries 1: the nack sends it to the dead-letter station.
    expect((await call("POST", `${GROUP}/nack`, { params, body: { offsets: [2] } })).body.nacked).toBe(1);
    expect(await outcome("POST", `${GROUP}/nack`, { params: { ...params, group: "no-such-group" }, body: { offsets: [2] } })).toMatchObject({ status: 404 });
    expect(await outcome("GET", `${GROUP}/subscribe`, { params })).toMatchObject({ status: 422 });
    expect(await upgrade(`${GROUP}/subscribe`, params)).toBe(101);

    const letters = await call("GET", `${STATION}/dls`, { params, query: "?group=billing&limit=10" });
    expect(letters.body.deadLetters).toHaveLength(1);
    expect(await outcome("GET", `${STATION}/dls`, { params, query: "?reason=nope" })).toMatchObject({ status: 422 });
    const id = String(letters.body.deadLetters[0].id);
    expect((await call("POST", `${STATION}/dls/resend`, { params, body: { ids: [Number(id)] } })).body.resent).toBe(1);
    expect(await outcome("POST", `${STATION}/dls/resend`, { params, body: { ids: [] } })).toMatchObject({ status: 422 });
    const again = await call("POST", `${GROUP}/fetch`, { params, body: { consumer: "c1" } });
    const offsets = again.body.messages.map((m: { offset: number }) => m.offset);
    // Back to the dead-letter station: by the consumer's word where the document has the route, else out of deliveries.
    if (document.paths[`${GROUP}/dead-letter`]) {
      expect(await outcome("POST", `${GROUP}/dead-letter`, { params, body: { offsets } })).toMatchObject({ status: 422 });
      expect(await outcome("POST", `${GROUP}/dead-letter`, { params, body: { offsets, reason: "cannot parse it" } })).toMatchObject({ status: 200 });
    } else {
      await call("POST", `${GROUP}/nack`, { params, body: { offsets } });
    }
    const relisted = await call("GET", `${STATION}/dls`, { params });
    expect(await outcome("DELETE", `${STATION}/dls/{id}`, { params: { ...params, id: String(relisted.body.deadLetters[0].id) } })).toMatchObject({ status: 200 });
    expect(await outcome("DELETE", `${STATION}/dls/{id}`, { params: { ...params, id: String(relisted.body.deadLetters[0].id) } })).toMatchObject({ status: 404 });
    expect(await outcome("DELETE", `${STATION}/dls/{id}`, { params: { ...params, id: "abc" } })).toMatchObject({ status: 422 });
    // Moving the group: a valid target answers its new state; a bad one 422; a missing group 404.
    expect(await outcome("POST", `${GROUP}/seek`, { params, body: { to: { offset: 1 } } })).toMatchObject({ status: 200 });
    expect(await outcome("POST", `${GROUP}/seek`, { params, body: { to: "middle" } })).toMatchObject({ status: 422 });
    expect(await outcome("POST", `${GROUP}/seek`, { params: { ...params, group: "no-such-group" }, body: { to: "latest" } })).toMatchObject({ status: 404 });
    expect(await outcome("DELETE", GROUP, { params })).toMatchObject({ status: 200 });
    expect(await outcome("DELETE", GROUP, { params })).toMatchObject({ status: 404 });
  });

  it("schemas: add versions, read them, list them, and refuse bad ones", async () => {
    const schema = uniqueStation("oa-schema");
    const params = { schema };
    const todo = { type: "object", required: ["todo"], properties: { todo: { type: "string" } } };
    expect(await outcome("PUT", "/v1/schemas/{schema}", { params, body: { schema: todo, description: "A todo" } })).toMatchObject({ status: 201 });
    expect(await outcome("PUT", "/v1/schemas/{schema}", { params, body: { schema: todo, description: "A todo" } })).toMatchObject({ status: 200 });
    expect(await outcome("PUT", "/v1/schemas/{schema}", { params, body: { ...todo, title: "bare form" } })).toMatchObject({ status: 201 });
    expect(await outcome("PUT", "/v1/schemas/{schema}", { params, body: { type: "no-such-type" } })).toMatchObject({ status: 422 });
    expect(await outcome("GET", "/v1/schemas")).toMatchObject({ status: 200 });
    expect(await outcome("GET", "/v1/schemas/{schema}", { params })).toMatchObject({ status: 200 });
    expect(await outcome("GET", "/v1/schemas/{schema}", { params: { schema: uniqueStation("none") } })).toMatchObject({ status: 404 });
    expect(await outcome("GET", "/v1/schemas/{schema}/versions/{version}", { params: { schema, version: "1" } })).toMatchObject({ status: 200 });
    expect(await outcome("GET", "/v1/schemas/{schema}/versions/{version}", { params: { schema, version: "latest" } })).toMatchObject({ status: 200 });
    expect(await outcome("GET", "/v1/schemas/{schema}/versions/{version}", { params: { schema, version: "9" } })).toMatchObject({ status: 404 });
    expect(await outcome("GET", "/v1/schemas/{schema}/versions/{version}", { params: { schema, version: "first" } })).toMatchObject({ status: 422 });

    const station = uniqueStation("oa");
    await call("PUT", STATION, { params: { station }, body: { schema: { name: schema } } });
    const produced = await call("POST", `${STATION}/messages`, { params: { station }, body: { messages: [{ body: { todo: 1 } }] } });
    expect(produced.status).toBe(422);
    expect(produced.body.error.code).toBe("schema_violation");
    expect((await call("GET", `${STATION}/schema`, { params: { station } })).body.schema.name).toBe(schema);
  });

  it("collaborative documents: JSON and binary reads, the live socket, and a log station refused", async () => {
    const station = uniqueStation("oa");
    const params = { station };
    await call("PUT", STATION, { params, body: { kind: "doc" } });
    expect(await outcome("GET", `${STATION}/doc`, { params })).toMatchObject({ status: 200 });
    expect(await outcome("GET", `${STATION}/doc`, { params, headers: { accept: "application/octet-stream" } })).toMatchObject({ status: 200 });
    expect(await outcome("GET", `${STATION}/doc`, { params, query: "?stateVector=%%%" })).toMatchObject({ status: 422 });
    expect(await outcome("POST", `${STATION}/doc`, { params, body: {} })).toMatchObject({ status: 200 });
    expect(await outcome("POST", `${STATION}/doc`, { params, body: { stateVector: "AA==" } })).toMatchObject({ status: 422 });
    expect(await outcome("GET", `${STATION}/doc/subscribe`, { params })).toMatchObject({ status: 422 });
    expect(await upgrade(`${STATION}/doc/subscribe`, params)).toBe(101);
    const log = uniqueStation("oa");
    await call("PUT", STATION, { params: { station: log }, body: {} });
    expect(await outcome("GET", `${STATION}/doc`, { params: { station: log } })).toMatchObject({ status: 409 });
  });

  describe("webhooks", () => {
    let receiver: ReturnType<typeof mockReceiver>;
    beforeAll(() => {
      receiver = mockReceiver();
    });
    afterAll(() => receiver.restore());

    it("endpoints: create, update, describe, list, replay, delete; and a delivery fits the `webhooks` entry", async () => {
      const station = uniqueStation("oa");
      const params = { station, webhook: "orders" };
      await call("PUT", STATION, { params, body: {} });
      const created = await call("PUT", WEBHOOK, { params, body: { url: "http://receiver.test/hook" } });
      expect(created.status).toBe(201);
      expect(await outcome("PUT", WEBHOOK, { params, body: { url: "http://receiver.test/hook", timeoutMs: 5_000 } })).toMatchObject({ status: 200 });
      expect(await outcome("PUT", WEBHOOK, { params, body: { url: "ftp://receiver.test/hook" } })).toMatchObject({ status: 422 });
      expect(await outcome("PUT", WEBHOOK, { params, body: {} })).toMatchObject({ status: 422 });
      expect(await outcome("GET", `${STATION}/webhooks`, { params })).toMatchObject({ status: 200 });
      expect(await outcome("GET", WEBHOOK, { params })).toMatchObject({ status: 200 });
      expect(await outcome("GET", WEBHOOK, { params: { ...params, webhook: "none" } })).toMatchObject({ status: 404 });

      await call("POST", `${STATION}/messages`, { params, body: { producer: "p1", messages: [{ seq: 1, body: { todo: "milk" }, headers: { kind: "a" } }] } });
      const delivery = await waitFor(() => receiver.calls.find((c) => c.url === "http://receiver.test/hook"), 10_000, "a delivery");
      const described = document.webhooks.message.post;
      expectFits(described.requestBody.content["application/json"].schema, delivery.json, "webhook delivery");
      for (const header of described.parameters) expectFits(header.schema, delivery.headers[header.name], `header ${header.name}`);

      expect(await outcome("POST", `${WEBHOOK}/replay`, { params, body: { from: "earliest" } })).toMatchObject({ status: 200 });
      expect(await outcome("POST", `${WEBHOOK}/replay`, { params, body: { from: 0 } })).toMatchObject({ status: 422 });
      expect(await outcome("DELETE", WEBHOOK, { params })).toMatchObject({ status: 200 });
      expect(await outcome("DELETE", WEBHOOK, { params })).toMatchObject({ status: 404 });
    });
  });

  it("describes every route the worker serves", () => {
    const served = buildApp()
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
    const described = Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(served.length).toBeGreaterThan(30);
    expect([...new Set(served)].filter((route) => !described.includes(route))).toEqual([]);
  });

  it("answered with success on every operation it describes, and checked every answer", () => {
    const operations = Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((operation) => !succeeded.has(operation))).toEqual([]);
    expect(checkedAnswers).toBeGreaterThan(90);
  });
});
