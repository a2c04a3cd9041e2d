// The schema registry: versions numbered and immutable, idempotent PUT, bad schemas refused with
// invalid_schema, reading versions and the list, and stations naming only schemas that exist.
import { describe, expect, it } from "vitest";
import { api, createStation, uniqueStation } from "./helpers";
import { addVersion, putSchema, TODO_V1, TODO_V2, uniqueSchema } from "./schemas-helpers";

describe("schema versions", () => {
  it("numbers versions 1, 2, 3 and keeps each one as it was stored", async () => {
    const name = uniqueSchema();
    // Numbering, not evolution: the name takes any new version.
    const first = await putSchema(name, TODO_V1, "a todo", "none");
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name, version: 1, draft: "2020-12", description: "a todo", schema: TODO_V1, created: true });
    const second = await putSchema(name, TODO_V2);
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: 2, description: null, created: true });
    const third = await putSchema(name, { ...TODO_V2, $schema: "https://json-schema.org/draft/2019-09/schema" });
    expect(third.body).toMatchObject({ version: 3, draft: "2019-09" });

    const versions = await api("GET", `/v1/schemas/${name}`);
    expect(versions.status).toBe(200);
    expect(versions.body.latestVersion).toBe(3);
    expect(versions.body.versions.map((v: any) => v.version)).toEqual([1, 2, 3]);
    expect(versions.body.versions[0]).toMatchObject({ schema: TODO_V1, description: "a todo", draft: "2020-12" });
    expect(versions.body.versions[1].schema).toEqual(TODO_V2);

    const one = await api("GET", `/v1/schemas/${name}/versions/1`);
    expect(one.body).toMatchObject({ name, version: 1, schema: TODO_V1 });
    const latest = await api("GET", `/v1/schemas/${name}/versions/latest`);
    expect(latest.body.version).toBe(3);
  });

  it("answers a PUT equal to the latest version with that version, 200, adding none", async () => {
    const name = uniqueSchema();
    await addVersion(name, TODO_V1, "none");
    // Same schema with its keys in another order.
    const reordered = { additionalProperties: false, properties: TODO_V1.properties, required: ["todo"], type: "object" };
    const again = await putSchema(name, reordered);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, created: false });
    // Equal to an older version but not the latest: a new version.
    await addVersion(name, TODO_V2);
    const back = await putSchema(name, TODO_V1);
    expect(back.status).toBe(201);
    expect(back.body.version).toBe(3);
    // Another description is another version.
    const described = await putSchema(name, TODO_V1, "now with a note");
    expect(described.body.version).toBe(4);
    expect((await api("GET", `/v1/schemas/${name}`)).body.versions).toHaveLength(4);
  });

  it("takes a bare JSON Schema as the body too, and a draft named beside the schema", async () => {
    const name = uniqueSchema();
    const bare = await api("PUT", `/v1/schemas/${name}`, { ...TODO_V1, description: "bare" });
    expect(bare.status).toBe(201);
    expect(bare.body).toMatchObject({ version: 1, description: "bare", schema: { ...TODO_V1, description: "bare" } });
    const boolean = await api("PUT", `/v1/schemas/${uniqueSchema()}`, true);
    expect(boolean.body).toMatchObject({ version: 1, schema: true });

    const tuple = { items: [{ type: "string" }] };
    const named = await api("PUT", `/v1/schemas/${uniqueSchema()}`, { schema: tuple, draft: "2019-09" });
    expect(named.body).toMatchObject({ version: 1, draft: "2019-09" });
    const clash = await api("PUT", `/v1/schemas/${uniqueSchema()}`, {
      schema: { $schema: "https://json-schema.org/draft/2020-12/schema" },
      draft: "2019-09",
    });
    expect(clash.body.error.code).toBe("invalid_schema");
    const typo = await api("PUT", `/v1/schemas/${uniqueSchema()}`, { schema: TODO_V1, descripton: "typo" });
    expect(typo.body.error.code).toBe("invalid_request");
  });

  it("lists schemas with their latest version", async () => {
    const a = uniqueSchema("list-a");
    const b = uniqueSchema("list-b");
    await addVersion(a, TODO_V1);
    await addVersion(a, TODO_V2, "none");
    await addVersion(b, true);
    const res = await api("GET", "/v1/schemas");
    expect(res.status).toBe(200);
    const byName = new Map(res.body.schemas.map((s: any) => [s.name, s]));
    expect(byName.get(a)).toMatchObject({ name: a, latestVersion: 2, draft: "2020-12", compatibility: "none" });
    expect(byName.get(b)).toMatchObject({ name: b, latestVersion: 1, compatibility: "backward" });
  });

  it("answers 404 schema_not_found for an unknown schema or version", async () => {
    const name = uniqueSchema();
    expect((await api("GET", `/v1/schemas/${name}`)).body.error.code).toBe("schema_not_found");
    await addVersion(name, TODO_V1);
    const missing = await api("GET", `/v1/schemas/${name}/versions/7`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "schema_not_found", schema: name, version: 7 });
    expect((await api("GET", `/v1/schemas/${name}/versions/zero`)).body.error.code).toBe("invalid_request");
  });

  it("refuses a bad schema name", async () => {
    const res = await putSchema("Bad Name", TODO_V1);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_name");
  });
});

describe("bad schemas", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["a keyword of the wrong type", { type: "object", properties: { a: { type: "strin" } } }, /\/properties\/a\/type/],
    ["a negative maxLength", { type: "string", maxLength: -1 }, /maxLength/],
    ["required that is not an array of strings", { required: "todo" }, /required/],
    ["a pattern that is not a regular expression", { type: "string", pattern: "([a-z" }, /pattern/],
    ["a patternProperties key that is not a regular expression", { patternProperties: { "(": { type: "string" } } }, /patternProperties/],
    ["an unsupported draft", { $schema: "http://json-schema.org/draft-07/schema#", type: "object" }, /Unsupported \$schema/],
    ["a $ref to nowhere", { $ref: "#/$defs/missing" }, /does not resolve/],
    ["a remote $ref", { $ref: "https://example.com/schemas/todo.json" }, /remote references/],
    ["$dynamicRef", { $dynamicRef: "#meta" }, /\$dynamicRef/],
    ["items as an array in draft 2020-12", { items: [{ type: "string" }] }, /items/],
  ];
  for (const [what, schema, message] of cases) {
    it(`refuses ${what} with 422 invalid_schema`, async () => {
      const name = uniqueSchema();
      const res = await putSchema(name, schema);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("invalid_schema");
      expect(res.body.error.message).toMatch(message);
      expect((await api("GET", `/v1/schemas/${name}`)).status).toBe(404);
    });
  }

  it("accepts tuple items in draft 2019-09, refs into $defs, and boolean schemas", async () => {
    const tuple = { $schema: "https://json-schema.org/draft/2019-09/schema", items: [{ type: "string" }], additionalItems: false };
    expect((await putSchema(uniqueSchema(), tuple)).status).toBe(201);
    const refs = { $defs: { tag: { type: "string" } }, type: "array", items: { $ref: "#/$defs/tag" } };
    expect((await putSchema(uniqueSchema(), refs)).status).toBe(201);
    expect((await putSchema(uniqueSchema(), false)).status).toBe(201);
  });

  it("refuses a body that is not a schema, and a schema nested too deep", async () => {
    expect((await api("PUT", `/v1/schemas/${uniqueSchema()}`, { schema: 5 })).body.error.code).toBe("invalid_request");
    expect((await api("PUT", `/v1/schemas/${uniqueSchema()}`, [1, 2])).body.error.code).toBe("invalid_request");
    expect((await api("PUT", `/v1/schemas/${uniqueSchema()}`, { schema: {}, extra: 1 })).body.error.code).toBe("invalid_request");
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 70; i++) deep = { items: deep };
    const res = await putSchema(uniqueSchema(), deep);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "invalid_schema" });
  });
});

describe("stations naming schemas", () => {
  it("refuses a station whose schema or version does not exist, and changes nothing", async () => {
    const schema = uniqueSchema();
    const station = uniqueStation();
    const unknown = await api("PUT", `/v1/stations/${station}`, { schema: { name: schema, version: "latest" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("schema_not_found");
    expect((await api("GET", `/v1/stations/${station}`)).status).toBe(404);

    await addVersion(schema, TODO_V1);
    const noVersion = await api("PUT", `/v1/stations/${station}`, { schema: { name: schema, version: 2 } });
    expect(noVersion.body.error).toMatchObject({ code: "schema_not_found", version: 2 });
    const ok = await api("PUT", `/v1/stations/${station}`, { schema: { name: schema, version: 1 } });
    expect(ok.status).toBe(201);
    expect(ok.body.config.schema).toEqual({ name: schema, version: 1 });
  });

  it("defaults the version to latest", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await createStation({ schema: { name: schema } });
    expect((await api("GET", `/v1/stations/${station}`)).body.config.schema).toEqual({ name: schema, version: "latest" });
  });
});
