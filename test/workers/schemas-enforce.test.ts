// Produce against a station's schema: refusal of the whole batch without seq with each failing
// message named, nothing half-written; a sequenced failing message ruled refused with its seq
// consumed; fixed versions and `latest`, detaching.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../../worker/catalog/catalog";
import { LATEST_RECHECK_MS } from "../../worker/station/schema";
import { api, createStation, produce, seqBatch, uniqueStation } from "./helpers";
import { addVersion, bindings, inStation, stationStub, stationWithSchema, TODO_V1, TODO_V2, uniqueSchema } from "./schemas-helpers";

/** Makes the station's last look at `schema`'s latest version LATEST_RECHECK_MS older. */
function ageLatestCheck(station: any, schema: string): void {
  station.schemas.latest.get(schema).checkedAt -= LATEST_RECHECK_MS;
}

async function lastOffset(station: string): Promise<number> {
  return (await api("GET", `/v1/stations/${station}`)).body.stats.lastOffset;
}

describe("refusing a batch", () => {
  it("refuses a failing message with 422 schema_violation naming its index, path and reason", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1);
    const res = await produce(station, { producer: "p", messages: [{ body: { todo: 5 } }] });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: "schema_violation",
      schema: { name: schema, version: 1 },
      violationCount: 1,
      violations: [{ index: 0, seq: null, path: "/todo", keyword: "type", schemaPath: "/properties/todo/type" }],
    });
    expect(res.body.error.violations[0].reason).toMatch(/string/);
    expect(res.body.error.message).toMatch(/1 of 1 message fails schema/);
    expect(await lastOffset(station)).toBe(0);
  });

  it("stores nothing of a batch with valid and invalid messages, and names every failing one", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest");
    const bodies = [{ todo: "a" }, { todo: "b", extra: true }, { todo: "c" }, {}, { todo: "e" }];
    const res = await produce(station, { messages: bodies.map((body) => ({ body })) });
    expect(res.status).toBe(422);
    expect(res.body.error.violationCount).toBe(2);
    expect(res.body.error.index).toBe(1);
    expect(res.body.error.violations.map((v: any) => [v.index, v.seq, v.path, v.keyword])).toEqual([
      [1, null, "/extra", "additionalProperties"],
      [3, null, "", "required"],
    ]);
    expect(await lastOffset(station)).toBe(0);
    const read = await api("GET", `/v1/stations/${station}/messages?from=1`);
    expect(read.body.messages).toEqual([]);
  });

  it("rules a sequenced failing message refused and consumes its seq; the batch's others are stored", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1);
    const todo = (seq: number) => ({ todo: `t${seq}` });
    expect((await produce(station, { producer: "p", messages: seqBatch(1, 3, todo) })).status).toBe(200);

    const ruled = await produce(station, { producer: "p", messages: [{ seq: 4, body: todo(4) }, { seq: 5, body: { todo: 5 } }] });
    expect(ruled.status).toBe(200);
    expect(ruled.body.results[0]).toEqual({ seq: 4, partition: 0, offset: 4, duplicate: false });
    expect(ruled.body.results[1]).toMatchObject({ seq: 5, partition: 0, offset: null, duplicate: false, refused: { code: "schema_violation" } });
    // Seq 5 is consumed: the station expects 6, and a fixed copy of 5 is a duplicate of the refusal.
    const gap = await produce(station, { producer: "p", messages: [{ seq: 7, body: todo(7) }] });
    expect(gap.body.error).toMatchObject({ code: "seq_gap", expectedSeq: 6 });
    const again = await produce(station, { producer: "p", messages: seqBatch(5, 2, todo) });
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual([{ ...ruled.body.results[1], duplicate: true }, { seq: 6, partition: 0, offset: 5, duplicate: false }]);
  });

  it("answers a resent batch as duplicates even if the schema changed since", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest");
    const batch = { producer: "p", messages: [{ seq: 1, body: { todo: "milk" } }] };
    expect((await produce(station, batch)).status).toBe(200);
    await addVersion(schema, TODO_V2, "none");
    const resent = await produce(station, batch);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual([{ seq: 1, partition: 0, offset: 1, duplicate: true }]);
    // A new message must meet v2.
    const next = await produce(station, { producer: "p", messages: [{ seq: 2, body: { todo: "eggs" } }] });
    expect(next.body.results[0].refused).toMatchObject({ code: "schema_violation", schema: { version: 2 } });
  });

  it("names at most 20 failing messages but counts them all", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1);
    const res = await produce(station, { messages: Array.from({ length: 30 }, () => ({ body: { todo: false } })) });
    expect(res.status).toBe(422);
    expect(res.body.error.violations).toHaveLength(20);
    expect(res.body.error.violationCount).toBe(30);
    expect(res.body.error.violations[19].index).toBe(19);
  });

  it("checks messages without seq too, and accepts a batch that passes", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, { type: "array", items: { type: "integer" }, maxItems: 3 });
    const station = await stationWithSchema(schema, 1);
    expect((await produce(station, { messages: [{ body: [1, 2, 3] }, { body: [] }] })).status).toBe(200);
    const res = await produce(station, { messages: [{ body: [1, 2, 3, 4] }] });
    expect(res.body.error.violations[0]).toMatchObject({ index: 0, seq: null, path: "", keyword: "maxItems" });
  });
});

describe("versions in force", () => {
  it("enforces the fixed version a station names, whatever versions come later", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    await addVersion(schema, TODO_V2, "none");
    const onV1 = await stationWithSchema(schema, 1);
    const onV2 = await stationWithSchema(schema, 2);
    expect((await produce(onV1, { messages: [{ body: { todo: "a" } }] })).status).toBe(200);
    expect((await produce(onV1, { messages: [{ body: { todo: "a", done: true } }] })).status).toBe(422);
    expect((await produce(onV2, { messages: [{ body: { todo: "a" } }] })).body.error.schema).toEqual({ name: schema, version: 2 });
    expect((await produce(onV2, { messages: [{ body: { todo: "a", done: true } }] })).status).toBe(200);
  });

  it("follows `latest`: a new version is enforced from the produce after its PUT", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest");
    expect((await produce(station, { messages: [{ body: { todo: "a" } }] })).status).toBe(200);
    expect(await addVersion(schema, TODO_V2, "none")).toBe(2);
    const refused = await produce(station, { messages: [{ body: { todo: "a" } }] });
    expect(refused.status).toBe(422);
    expect(refused.body.error.schema).toEqual({ name: schema, version: 2 });
    expect((await produce(station, { messages: [{ body: { todo: "a", done: false } }] })).status).toBe(200);
  });

  it(`follows \`latest\` within ${LATEST_RECHECK_MS} ms even when the station missed the notice`, async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest");
    expect((await produce(station, { messages: [{ body: { todo: "a" } }] })).status).toBe(200);
    // v2 reaches the catalog without the notice the PUT route sends.
    // (untyped stub: the Catalog's RPC types are too deep for runInDurableObject's inference)
    const catalog = bindings.CATALOG.get(bindings.CATALOG.idFromName("catalog")) as any;
    const added = await runInDurableObject(catalog, (instance: Catalog) =>
      instance.addSchema(schema, { draft: "2020-12", text: JSON.stringify(TODO_V2), description: null, compatibility: "none" }),
    );
    expect(added.ok).toBe(true);
    // Inside the re-check interval the station still enforces v1 (the catalog is not asked)…
    expect((await produce(station, { messages: [{ body: { todo: "b" } }] })).status).toBe(200);
    // …and once the interval has passed, v2.
    await inStation(station, (instance) => ageLatestCheck(instance, schema));
    const refused = await produce(station, { messages: [{ body: { todo: "c" } }] });
    expect(refused.body.error).toMatchObject({ code: "schema_violation", schema: { version: 2 } });
  });

  it("applies a changed or detached schema to later produces only", async () => {
    const strict = uniqueSchema();
    const loose = uniqueSchema();
    await addVersion(strict, TODO_V2);
    await addVersion(loose, { type: "object" });
    const station = uniqueStation();
    await createStation({ schema: { name: strict, version: 1 } }, station);
    expect((await produce(station, { messages: [{ body: { todo: "a", done: true } }] })).status).toBe(200);

    expect((await api("PUT", `/v1/stations/${station}`, { schema: { name: loose, version: 1 } })).status).toBe(200);
    expect((await produce(station, { messages: [{ body: { any: "thing" } }] })).status).toBe(200);
    expect((await produce(station, { messages: [{ body: [1] }] })).body.error.schema).toEqual({ name: loose, version: 1 });

    expect((await api("PUT", `/v1/stations/${station}`, { schema: null })).status).toBe(200);
    expect((await produce(station, { messages: [{ body: "anything at all" }] })).status).toBe(200);
    // What was stored under earlier schemas stays as it was.
    const read = await api("GET", `/v1/stations/${station}/messages?from=1`);
    expect(read.body.messages.map((m: any) => m.body)).toEqual([{ todo: "a", done: true }, { any: "thing" }, "anything at all"]);
  });

  it("compiles a version once and keeps enforcing it after the object restarts", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1);
    for (let i = 0; i < 5; i++) expect((await produce(station, { messages: [{ body: { todo: `t${i}` } }] })).status).toBe(200);
    const compiled = await inStation(station, (instance) => [...instance.schemas.compiled.keys()]);
    expect(compiled).toEqual([`${schema}@1`]);
    await evictDurableObject(stationStub(station));
    expect((await produce(station, { messages: [{ body: { todo: 1 } }] })).status).toBe(422);
  });
});

describe("GET /v1/stations/{station}/schema", () => {
  it("answers the schema in force with its version, or null", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest");
    const first = await api("GET", `/v1/stations/${station}/schema`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ station, schema: { name: schema, version: 1, follows: "latest", format: "json-schema", draft: "2020-12", schema: TODO_V1 } });
    await addVersion(schema, TODO_V2, "none");
    expect((await api("GET", `/v1/stations/${station}/schema`)).body.schema).toMatchObject({ version: 2, schema: TODO_V2 });

    const plain = await createStation();
    expect((await api("GET", `/v1/stations/${plain}/schema`)).body).toEqual({ station: plain, schema: null });
    expect((await api("GET", `/v1/stations/${uniqueStation()}/schema`)).body.error.code).toBe("station_not_found");
  });
});
