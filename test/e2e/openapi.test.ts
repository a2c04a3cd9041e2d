// The OpenAPI document as a newcomer uses it: fetched from `wrangler dev` without a token,
// validated by a real OpenAPI 3.1 validator, and turned into a typed client (openapi-typescript
// + openapi-fetch) that must compile under tsc and then produce, fetch and ack for real.
import { validate } from "@readme/openapi-parser";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type RunningWorker, removeStateDir, startWorker } from "./wrangler-dev";

/** Inside the repo (git-ignored), so the generated client resolves openapi-fetch from node_modules. */
const CLIENT_DIR = join(ROOT, "test", "artifacts", "openapi-client");

describe("the OpenAPI document", () => {
  let worker: RunningWorker;
  let document: Record<string, any>;
  beforeAll(async () => {
    worker = await startWorker();
    const res = await fetch(`${worker.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    document = (await res.json()) as Record<string, any>;
  });
  afterAll(async () => {
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  it("is served without a token and validates as OpenAPI 3.1", async () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers).toEqual([{ url: worker.url }]);
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("is judged by a validator that does refuse a broken document", async () => {
    const broken = structuredClone(document);
    delete broken.paths["/v1/stations/{station}/messages"].post.responses;
    broken.paths["/v1/stations/{station}"].get.parameters[0].in = "body";
    const result = await validate(broken as Parameters<typeof validate>[0]);
    expect(result.valid).toBe(false);
  });

  it("describes every /v1 route of the table in docs/http-api.md, and the signed webhook delivery", () => {
    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const route of [
      "PUT /v1/stations/{station}", "GET /v1/stations", "GET /v1/stations/{station}", "DELETE /v1/stations/{station}",
      "POST /v1/stations/{station}/messages", "GET /v1/stations/{station}/messages",
      "POST /v1/stations/{station}/groups/{group}/fetch", "POST /v1/stations/{station}/groups/{group}/ack",
      "POST /v1/stations/{station}/groups/{group}/nack", "GET /v1/stations/{station}/groups/{group}/subscribe",
      "GET /v1/stations/{station}/dls", "POST /v1/stations/{station}/dls/resend", "DELETE /v1/stations/{station}/dls/{id}",
      "PUT /v1/stations/{station}/webhooks/{webhook}", "GET /v1/stations/{station}/webhooks", "DELETE /v1/stations/{station}/webhooks/{webhook}",
      "PUT /v1/schemas/{schema}", "GET /v1/schemas/{schema}", "GET /healthz", "GET /openapi.json",
    ]) {
      expect(operations).toContain(route);
    }
    const delivery = document.webhooks.message.post;
    expect(delivery.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      "header:webhook-id", "header:webhook-timestamp", "header:webhook-signature",
    ]);
    expect(delivery.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/WebhookPayload" });
    expect(document.components.schemas.WebhookPayload.required).toEqual(expect.arrayContaining(["offset", "body", "station"]));
  });

  it("generates a client that compiles under tsc and does a produce, fetch and ack round trip", async () => {
    rmSync(CLIENT_DIR, { recursive: true, force: true });
    mkdirSync(CLIENT_DIR, { recursive: true });
    writeFileSync(join(CLIENT_DIR, "waystation-api.d.ts"), astToString(await openapiTS(document as any)));
    writeFileSync(join(CLIENT_DIR, "round-trip.ts"), ROUND_TRIP_SOURCE);
    writeFileSync(join(CLIENT_DIR, "tsconfig.json"), JSON.stringify(CLIENT_TSCONFIG));
    // tsc fails on a type error and on a `@ts-expect-error` that is not one: the types have teeth.
    execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", CLIENT_DIR], { stdio: "pipe" });

    const { roundTrip } = (await import(pathToFileURL(join(CLIENT_DIR, "round-trip.ts")).href)) as { roundTrip: RoundTrip };
    const result = await roundTrip(worker.url, worker.token, "openapi-client");
    expect(result).toEqual({ created: 201, offsets: [1, 2], fetched: [1, 2], bodies: [{ todo: "milk" }, { todo: "eggs" }], acked: 2, afterAck: [], gap: { code: "seq_gap", expectedSeq: 3 } });
  });
});

type RoundTrip = (baseUrl: string, token: string, station: string) => Promise<unknown>;

const CLIENT_TSCONFIG = {
  compilerOptions: {
    target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2023", "DOM"], types: [],
    strict: true, noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true,
  },
  include: ["./*.ts"],
};

/** A newcomer's client: nothing but the generated types and openapi-fetch. */
const ROUND_TRIP_SOURCE = `
import createClient from "openapi-fetch";
import type { paths } from "./waystation-api";

export async function roundTrip(baseUrl: string, token: string, station: string) {
  const api = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const path = { station };
  const created = await api.PUT("/v1/stations/{station}", { params: { path }, body: {} });
  if (!created.data) throw new Error(\`create: \${JSON.stringify(created.error)}\`);

  const produced = await api.POST("/v1/stations/{station}/messages", {
    params: { path },
    body: { producer: "openapi-client", messages: [{ seq: 1, body: { todo: "milk" } }, { seq: 2, body: { todo: "eggs" } }] },
  });
  if (!produced.data) throw new Error(\`produce: \${JSON.stringify(produced.error)}\`);
  const offsets: Array<number | null> = produced.data.results.map((result) => result.offset);

  const group = { station, group: "billing" };
  const made = await api.PUT("/v1/stations/{station}/groups/{group}", { params: { path: group }, body: { start: "earliest" } });
  if (!made.data) throw new Error(\`group: \${JSON.stringify(made.error)}\`);
  const fetched = await api.POST("/v1/stations/{station}/groups/{group}/fetch", { params: { path: group }, body: { consumer: "worker-1", max: 10, waitMs: 2000 } });
  if (!fetched.data) throw new Error(\`fetch: \${JSON.stringify(fetched.error)}\`);
  const leased: number[] = fetched.data.messages.map((message) => message.offset);
  const acked = await api.POST("/v1/stations/{station}/groups/{group}/ack", { params: { path: group }, body: { offsets: leased } });
  if (!acked.data) throw new Error(\`ack: \${JSON.stringify(acked.error)}\`);
  const again = await api.POST("/v1/stations/{station}/groups/{group}/fetch", { params: { path: group }, body: { consumer: "worker-1", waitMs: 0 } });

  // A refusal is typed too: its code is one of the documented ones.
  const skipped = await api.POST("/v1/stations/{station}/messages", { params: { path }, body: { producer: "openapi-client", messages: [{ seq: 9, body: {} }] } });
  const refusal = skipped.error?.error;
  const expectedSeq = refusal?.code === "seq_gap" ? refusal.expectedSeq : undefined;
  return {
    created: created.response.status,
    offsets,
    fetched: leased,
    bodies: fetched.data.messages.map((message) => message.body),
    acked: acked.data.acked,
    afterAck: again.data?.messages.map((message) => message.offset),
    gap: { code: refusal?.code, expectedSeq },
  };
}

/** Never called: each line must be a type error, or tsc fails on the unused directive. */
export function misuses(api: ReturnType<typeof createClient<paths>>) {
  // @ts-expect-error offsets are numbers
  void api.POST("/v1/stations/{station}/groups/{group}/ack", { params: { path: { station: "s", group: "g" } }, body: { offsets: ["1"] } });
  // @ts-expect-error a message needs a body
  void api.POST("/v1/stations/{station}/messages", { params: { path: { station: "s" } }, body: { messages: [{ seq: 1 }] } });
  // @ts-expect-error no such route
  void api.GET("/v1/no-such-route");
}
`;
