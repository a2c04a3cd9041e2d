// Schema evolution over the API: a schema's compatibility rule (backward by default, set on PUT),
// new versions accepted or refused with 409 incompatible_schema naming what breaks, and a refused
// PUT changing nothing (neither a version nor the rule).
import { describe, expect, it } from "vitest";
import { api } from "./helpers";
import { addVersion, putSchema, TODO_V1, TODO_V2, uniqueSchema } from "./schemas-helpers";

/** v1 with an optional `note`: every todo v1 takes, this takes too (additionalProperties aside). */
const TODO_OPEN = { type: "object", required: ["todo"], properties: { todo: { type: "string", maxLength: 20 } } };

describe("schema compatibility", () => {
  it("is backward by default: a version taking more is added, one adding a required property is refused", async () => {
    const name = uniqueSchema();
    const first = await putSchema(name, TODO_V1);
    expect(first.body).toMatchObject({ version: 1, compatibility: "backward" });
    // Loosening: maxLength raised, additionalProperties dropped.
    const looser = { ...TODO_OPEN, properties: { todo: { type: "string", maxLength: 40 } } };
    const added = await putSchema(name, looser);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ version: 2, compatibility: "backward" });

    const refused = await putSchema(name, { ...looser, required: ["todo", "due"] });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "incompatible_schema", schema: name, compatibility: "backward", latestVersion: 2 });
    expect(refused.body.error.breaks).toEqual([{ path: "/required", rule: "required_added", message: expect.stringContaining('"due"') }]);
    expect(refused.body.error.message).toContain("required_added");
    const versions = await api("GET", `/v1/schemas/${name}`);
    expect(versions.body).toMatchObject({ latestVersion: 2, compatibility: "backward" });
  });

  it("names each break: a narrowed type, a shrunk enum, a tightened bound and additionalProperties", async () => {
    const name = uniqueSchema();
    await addVersion(name, { type: "object", properties: { n: { type: "number", minimum: 0 }, s: { enum: ["a", "b"] } } });
    const refused = await putSchema(name, {
      type: "object",
      properties: { n: { type: "integer", minimum: 1 }, s: { enum: ["a"] } },
      additionalProperties: false,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.breaks.map((b: any) => [b.path, b.rule])).toEqual([
      ["/properties/n/type", "type_narrowed"],
      ["/properties/n/minimum", "bound_tightened"],
      ["/properties/s/enum", "enum_shrunk"],
      ["/additionalProperties", "additional_properties_tightened"],
    ]);
  });

  it("forward refuses a version taking more; full refuses both ways; none takes anything", async () => {
    const forward = uniqueSchema();
    await addVersion(forward, TODO_OPEN, "forward");
    // Stricter: readers still on v1 read everything v2 lets in.
    expect((await putSchema(forward, { ...TODO_OPEN, required: ["todo", "due"] })).status).toBe(201);
    const loosened = await putSchema(forward, TODO_OPEN);
    expect(loosened.status).toBe(409);
    expect(loosened.body.error).toMatchObject({ compatibility: "forward", latestVersion: 2 });
    expect(loosened.body.error.breaks.map((b: any) => b.rule)).toEqual(["required_removed"]);
    // additionalProperties false in v1 refuses v2's new property: not forward either.
    const closed = uniqueSchema();
    await addVersion(closed, TODO_V1, "forward");
    expect((await putSchema(closed, TODO_V2)).body.error.breaks).toEqual([
      { path: "/properties/done", rule: "additional_properties_loosened", message: expect.any(String) },
    ]);

    const full = uniqueSchema();
    await addVersion(full, TODO_V1, "full");
    expect((await putSchema(full, TODO_V2)).body.error.code).toBe("incompatible_schema");
    expect((await putSchema(full, TODO_OPEN)).body.error.code).toBe("incompatible_schema");
    expect((await putSchema(full, { ...TODO_V1, description: "same values" })).status).toBe(201);

    const none = uniqueSchema();
    await addVersion(none, TODO_V1, "none");
    expect((await putSchema(none, { type: "string" })).status).toBe(201);
  });

  it("refuses what it cannot decide, with rule undecidable", async () => {
    const name = uniqueSchema();
    await addVersion(name, { oneOf: [{ type: "string" }, { type: "number" }] });
    const refused = await putSchema(name, { oneOf: [{ type: "string" }, { type: "integer" }] });
    expect(refused.status).toBe(409);
    expect(refused.body.error.breaks).toEqual([{ path: "/oneOf", rule: "undecidable", message: expect.any(String) }]);
  });

  it("changes the rule with a PUT of the latest version, or with the version it lets in; a refused PUT changes nothing", async () => {
    const name = uniqueSchema();
    await addVersion(name, TODO_V1);
    // A refused PUT naming a rule does not set it.
    expect((await putSchema(name, TODO_V2, undefined, "backward")).status).toBe(409);
    // The latest again with a rule: no version added, the rule set.
    const same = await putSchema(name, TODO_V1, undefined, "forward");
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ version: 1, created: false, compatibility: "forward" });
    expect((await api("GET", `/v1/schemas/${name}`)).body.compatibility).toBe("forward");
    expect((await api("GET", "/v1/schemas")).body.schemas.find((s: any) => s.name === name)).toMatchObject({ compatibility: "forward" });
    // A version and its rule together: judged by the rule it brings.
    const free = await putSchema(name, { type: "string" }, undefined, "none");
    expect(free.status).toBe(201);
    expect(free.body).toMatchObject({ version: 2, compatibility: "none" });
    expect((await putSchema(name, true, undefined, "sideways")).body.error.code).toBe("invalid_request");
  });
});
