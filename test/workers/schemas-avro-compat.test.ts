// Avro schema evolution over the API: a new Avro version follows its schema's compatibility rule
// (backward by default, forward, full, none) by Avro's schema resolution, accepted (201, or 200 for
// the latest again) or refused with 409 incompatible_schema naming what breaks; and a message
// stamped with the version its producer checked is judged by that version.
import { describe, expect, it } from "vitest";
import { canRead } from "../../worker/schemas/avro/can-read";
import { parseAvroSchema } from "../../worker/schemas/avro/parse-schema";
import { api, produce } from "./helpers";
import { stationWithSchema, uniqueSchema } from "./schemas-helpers";

const field = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });
const todo = (...fields: unknown[]) => ({ type: "record", name: "Todo", namespace: "todo.v1", fields: [field("title", "string"), ...fields] });

/** v1: a title, a 32-bit estimate and a state. */
const V1 = todo(field("estimate", "int"), field("state", { type: "enum", name: "State", symbols: ["OPEN", "DONE"] }));

function putAvro(name: string, schema: unknown, compatibility?: string) {
  return api("PUT", `/v1/schemas/${name}`, { format: "avro", schema, ...(compatibility === undefined ? {} : { compatibility }) });
}

async function avroSchema(compatibility?: string): Promise<string> {
  const name = uniqueSchema("avro");
  const res = await putAvro(name, V1, compatibility);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ version: 1, format: "avro", compatibility: compatibility ?? "backward" });
  return name;
}

describe("avro schema compatibility", () => {
  it("backward (the default): a version reading v1's data is added; one adding a field without a default is refused", async () => {
    const name = await avroSchema();
    // A field added with a default, int promoted to long, a symbol added.
    const v2 = todo(field("estimate", "long"), field("state", { type: "enum", name: "State", symbols: ["OPEN", "DONE", "STUCK"] }), field("note", ["null", "string"], { default: null }));
    const added = await putAvro(name, v2);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ version: 2, created: true, compatibility: "backward" });
    // The same again adds nothing.
    expect((await putAvro(name, v2)).body).toMatchObject({ version: 2, created: false });

    const refused = await putAvro(name, todo(field("estimate", "long"), field("state", { type: "enum", name: "State", symbols: ["OPEN"] }), field("due", "long")));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "incompatible_schema", schema: name, compatibility: "backward", latestVersion: 2 });
    expect(refused.body.error.breaks).toEqual([
      { path: "/state", rule: "enum_shrunk", message: expect.stringContaining('symbols "DONE", "STUCK" removed from enum todo.v1.State, which has no default') },
      { path: "/due", rule: "required_added", message: expect.stringContaining('field "due" added without a default') },
    ]);
    expect(refused.body.error.message).toMatch(/breaks its backward compatibility with v2 at \/state \(enum_shrunk: .*\) and 1 more place/);
    // A refused PUT adds nothing.
    expect((await api("GET", `/v1/schemas/${name}`)).body).toMatchObject({ latestVersion: 2, compatibility: "backward" });
  });

  it("forward: a version v1 can still read is added; one v1 cannot read is refused", async () => {
    const name = await avroSchema("forward");
    // A field added (v1 ignores it), a symbol dropped, int kept.
    const v2 = todo(field("estimate", "int"), field("state", { type: "enum", name: "State", symbols: ["OPEN"] }), field("owner", "string", { default: "" }));
    expect((await putAvro(name, v2)).status).toBe(201);
    // estimate widened to long, and title dropped (v1 has no default for it).
    const refused = await putAvro(name, { type: "record", name: "Todo", namespace: "todo.v1", fields: [field("estimate", "long"), field("state", { type: "enum", name: "State", symbols: ["OPEN"] })] });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "incompatible_schema", compatibility: "forward", latestVersion: 2 });
    expect(refused.body.error.breaks.map((b: any) => [b.path, b.rule])).toEqual([
      ["/title", "required_removed"],
      ["/estimate", "type_widened"],
    ]);
    expect(refused.body.error.breaks[1].message).toBe(`data written with the new version can't be read with the previous one: field "estimate": long cannot be read as int`);
  });

  it("full: only a version readable both ways is added", async () => {
    const name = await avroSchema("full");
    const v2 = todo(field("estimate", "int"), field("state", { type: "enum", name: "State", symbols: ["OPEN", "DONE"] }), field("note", ["null", "string"], { default: null }));
    expect((await putAvro(name, v2)).status).toBe(201);
    // Backward would take int → long; full does not (v2 cannot read long as int).
    const widened = await putAvro(name, todo(field("estimate", "long"), field("state", { type: "enum", name: "State", symbols: ["OPEN", "DONE"] }), field("note", ["null", "string"], { default: null })));
    expect(widened.status).toBe(409);
    expect(widened.body.error.breaks).toEqual([{ path: "/estimate", rule: "type_widened", message: expect.stringContaining("long cannot be read as int") }]);
    // A record renamed breaks both ways.
    const renamed = await putAvro(name, { ...v2, name: "Task" });
    expect(renamed.body.error.breaks.map((b: any) => [b.path, b.rule])).toEqual([
      ["", "type_narrowed"],
      ["", "type_widened"],
    ]);
    expect(renamed.body.error.breaks[0].message).toContain("record todo.v1.Todo cannot be read as record todo.v1.Task (the names differ, and todo.v1.Task has no alias todo.v1.Todo)");
    // With an alias the new name reads the old data, but the old name has no alias for the new one: backward only.
    expect((await putAvro(name, { ...v2, name: "Task", aliases: ["Todo"] })).status).toBe(409);
    expect((await putAvro(name, { ...v2, name: "Task", aliases: ["Todo"] }, "backward")).status).toBe(201);
  });

  it("none: any Avro version is added, and the rule stays none", async () => {
    const name = await avroSchema("none");
    expect((await putAvro(name, { type: "string" })).body).toMatchObject({ version: 2, compatibility: "none" });
    expect((await putAvro(name, todo(field("x", "boolean")))).body).toMatchObject({ version: 3, compatibility: "none" });
    // Setting a rule again: the next version is judged by it.
    const refused = await putAvro(name, todo(field("x", "string")), "backward");
    expect(refused.status).toBe(409);
    expect(refused.body.error.breaks).toEqual([{ path: "/x", rule: "type_narrowed", message: expect.stringContaining('field "x": boolean cannot be read as string') }]);
    expect((await api("GET", `/v1/schemas/${name}`)).body).toMatchObject({ latestVersion: 3, compatibility: "none" });
  });

  it("judges a message stamped v1 by v1 after a forward-compatible v2 is added", async () => {
    const name = uniqueSchema("avro");
    const first = todo(field("note", ["null", "string"], { default: null }));
    expect((await putAvro(name, first, "forward")).status).toBe(201);
    const station = await stationWithSchema(name, "latest");
    // v2 drops note (v1 has a default for it): forward compatible, but a body with note is not v2's.
    expect((await putAvro(name, todo())).body).toMatchObject({ version: 2, created: true });
    const res = await produce(station, {
      producer: "svc",
      messages: [
        { seq: 1, body: { title: "queued under v1", note: null }, schemaVersion: 1 },
        { seq: 2, body: { title: "not stamped", note: null } },
        { seq: 3, body: { title: "meets v2" } },
      ],
    });
    expect(res.status).toBe(200);
    const [stamped, unstamped, current] = res.body.results;
    expect(stamped).toMatchObject({ seq: 1, offset: 1 });
    expect(unstamped.refused).toMatchObject({ code: "schema_violation", schema: { name, version: 2 } });
    expect(current).toMatchObject({ seq: 3, offset: 2 });
    const read = await api("GET", `/v1/stations/${station}/messages`);
    expect(read.body.messages.map((m: any) => [m.offset, m.schemaVersion])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("compares with code generation from strings refused", () => {
    // As in schemas-avro.test.ts: vitest's workerd isolate allows code generation, a deployed Worker does not.
    function refuse(): never {
      throw new EvalError("Code generation from strings disallowed for this context");
    }
    const functionPrototype = Function.prototype;
    const saved = { Function: globalThis.Function, eval: globalThis.eval, constructor: functionPrototype.constructor };
    globalThis.Function = refuse as unknown as FunctionConstructor;
    globalThis.eval = refuse;
    Object.defineProperty(functionPrototype, "constructor", { value: refuse, configurable: true, writable: true });
    try {
      expect(() => new Function("return 1")).toThrow(/disallowed/);
      const list = (value: string) => ({ type: "record", name: "List", fields: [field("value", value), field("next", ["null", "List"])] });
      expect(canRead(parseAvroSchema(list("long")), parseAvroSchema(list("int")))).toBe(true);
      expect(canRead(parseAvroSchema(list("int")), parseAvroSchema(list("long")))).toBe(false);
    } finally {
      globalThis.Function = saved.Function;
      globalThis.eval = saved.eval;
      Object.defineProperty(functionPrototype, "constructor", { value: saved.constructor, configurable: true, writable: true });
    }
  });
});
