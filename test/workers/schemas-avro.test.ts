// Avro schema versions in workerd: a schema stored (or refused with invalid_schema), bodies sent as
// {"$binary": …} (Avro binary) or in Avro's JSON encoding checked at the station, refusals as
// schema_violation (ruled refused for sequenced producers), and replay decoding binary to JSON.
// Workers refuse code generated from strings: the first test runs the Avro path with it refused.
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../../shared/binary";
import { avroBodyAsJson, avroTypeOf, checkAvroSchema } from "../../worker/schemas/avro";
import { compileSchema } from "../../worker/schemas/compile-schema";
import { api, produce } from "./helpers";
import { stationWithSchema, uniqueSchema } from "./schemas-helpers";

const TODO = {
  type: "record",
  name: "Todo",
  namespace: "todo.v1",
  fields: [
    { name: "title", type: "string" },
    { name: "done", type: "boolean" },
    { name: "note", type: ["null", "string"], default: null },
    { name: "due", type: "long" },
  ],
};

/** Zig-zag varint, as Avro writes ints, longs, lengths and union indexes. */
function varint(value: bigint | number): number[] {
  const n = BigInt(value);
  let u = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  do {
    const byte = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u === 0n ? byte : byte | 0x80);
  } while (u !== 0n);
  return out;
}

function avroString(text: string): number[] {
  const utf8 = new TextEncoder().encode(text);
  return [...varint(utf8.length), ...utf8];
}

/** A Todo in Avro binary, as a `$binary` body. */
function binaryTodo(title: string, done: boolean, note: string | null, due: bigint | number) {
  const bytes = [...avroString(title), done ? 1 : 0, ...(note === null ? varint(0) : [...varint(1), ...avroString(note)]), ...varint(due)];
  return { $binary: encodeBase64(Uint8Array.from(bytes)) };
}

async function avroSchema(): Promise<string> {
  const name = uniqueSchema("avro");
  const res = await api("PUT", `/v1/schemas/${name}`, { format: "avro", schema: TODO });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ name, version: 1, format: "avro", schema: TODO });
  return name;
}

describe("avro schemas", () => {
  it("checks and decodes with code generation from strings refused", () => {
    // vitest-pool-workers lets its own isolate generate code (its module runner needs it), unlike a
    // deployed Worker; so the way a schema could reach the code generator is closed here by hand.
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
      expect(() => (() => 0).constructor("return 1")).toThrow(/disallowed/);
      const checked = checkAvroSchema(TODO);
      expect(checked.ok).toBe(true);
      const compiled = compileSchema({ name: "todo", version: 1, format: "avro", draft: "2020-12", text: JSON.stringify(TODO) });
      const body = binaryTodo("milk", true, "2%", 2n ** 60n);
      expect(compiled.check(JSON.stringify(body))).toBeNull();
      expect(compiled.check(JSON.stringify({ title: "x", done: true, note: { string: "y" }, due: 1 }))).toBeNull();
      expect(compiled.check(JSON.stringify({ title: "x" }))).toMatchObject({ keyword: "avro" });
      const type = avroTypeOf(JSON.stringify(TODO));
      expect(type.ok && avroBodyAsJson(type.value, body)).toEqual({ title: "milk", done: true, note: { string: "2%" }, due: "1152921504606846976" });
    } finally {
      globalThis.Function = saved.Function;
      globalThis.eval = saved.eval;
      Object.defineProperty(functionPrototype, "constructor", { value: saved.constructor, configurable: true, writable: true });
    }
  });

  it("stores an Avro schema, and refuses one the specification does not allow with the place and reason", async () => {
    await avroSchema();
    const cases: Array<[unknown, RegExp]> = [
      [{ type: "record", name: "R", fields: [{ name: "a", type: "Missing" }] }, /\/fields\/0\/type.*"Missing" is not/],
      [{ type: "record", name: "R", fields: [{ name: "a", type: ["int", "int"] }] }, /holds int twice/],
      [{ type: "record", name: "R", fields: [{ name: "a", type: "int", default: "no" }] }, /default/],
      [{ type: "enum", name: "E", symbols: [] , default: "X" }, /default must be one of its symbols/],
      [{ type: "fixed", name: "F", size: -1 }, /size/],
    ];
    for (const [schema, reason] of cases) {
      const res = await api("PUT", `/v1/schemas/${uniqueSchema("avro")}`, { format: "avro", schema });
      expect(res.status, JSON.stringify(schema)).toBe(422);
      expect(res.body.error).toMatchObject({ code: "invalid_schema", message: expect.stringMatching(reason) });
    }
    // A top-level union is not an object: the request itself is refused (wrap it in a record).
    const union = await api("PUT", `/v1/schemas/${uniqueSchema("avro")}`, { format: "avro", schema: ["null", "int"] });
    expect(union.status).toBe(422);
    expect(union.body.error.code).toBe("invalid_request");
  });

  it("takes binary and JSON bodies of the schema, and replays binary ones as Avro's JSON encoding when asked", async () => {
    const name = await avroSchema();
    const station = await stationWithSchema(name, "latest");
    const binary = binaryTodo("milk", true, "2%", 1_700_000_000_000);
    const big = binaryTodo("eggs", false, null, 2n ** 60n);
    const json = { title: "bread", done: false, note: { string: "rye" }, due: "9007199254740993" };
    const res = await produce(station, { producer: "svc", messages: [{ seq: 1, body: binary }, { seq: 2, body: big }, { seq: 3, body: json }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.offset)).toEqual([1, 2, 3]);

    const read = await api("GET", `/v1/stations/${station}/messages`);
    expect(read.body.messages.map((m: any) => [m.body, m.schemaVersion])).toEqual([
      [binary, 1],
      [big, 1],
      [json, 1],
    ]);
    const decoded = await api("GET", `/v1/stations/${station}/messages?decode=json`);
    expect(decoded.body.messages.map((m: any) => m.body)).toEqual([
      { title: "milk", done: true, note: { string: "2%" }, due: 1_700_000_000_000 },
      // Past 2^53 a long reads back as a decimal string, which the JSON form takes too.
      { title: "eggs", done: false, note: null, due: "1152921504606846976" },
      json,
    ]);
    // What decoding gives is itself a valid body.
    const again = await produce(station, { messages: decoded.body.messages.map((m: any) => ({ body: m.body })) });
    expect(again.status).toBe(200);
    // The browser is told the format, so it leaves the check to the station.
    expect((await api("GET", `/v1/stations/${station}/schema`)).body.schema).toMatchObject({ format: "avro", version: 1 });
  });

  it("refuses bodies that are not the schema's with schema_violation, and rules them refused for sequenced producers", async () => {
    const name = await avroSchema();
    const station = await stationWithSchema(name, "latest");
    const good = binaryTodo("milk", true, null, 1);
    const goodBytes = Uint8Array.from(atob(good.$binary), (c) => c.charCodeAt(0));
    const bodies: Array<[unknown, RegExp]> = [
      // Binary: truncated, one byte too many, a union index past its branches.
      [{ $binary: encodeBase64(goodBytes.subarray(0, goodBytes.length - 1)) }, /ends in the middle/],
      [{ $binary: encodeBase64(Uint8Array.from([...goodBytes, 0])) }, /1 byte left over/],
      [{ $binary: encodeBase64(Uint8Array.from([...avroString("x"), 1, ...varint(5), ...varint(1)])) }, /no branch 5/],
      // JSON: a plain union value (Avro's JSON encoding wraps it), a missing field, a wrong type, an unknown field.
      [{ title: "x", done: true, note: "plain", due: 1 }, /union value/],
      [{ title: "x", done: true, note: null }, /needs field due/],
      [{ title: 5, done: true, note: null, due: 1 }, /expected a string/],
      [{ title: "x", done: true, note: null, due: 1, extra: 1 }, /no field extra/],
      ["just text", /expected todo.v1.Todo/],
    ];
    for (const [body, reason] of bodies) {
      const res = await produce(station, { messages: [{ body }] });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error).toMatchObject({ code: "schema_violation", schema: { name, version: 1 } });
      expect(res.body.error.violations[0]).toMatchObject({ keyword: "avro", reason: expect.stringMatching(reason) });
    }
    const wrongType = await produce(station, { messages: [{ body: { title: 5, done: true, note: null, due: 1 } }] });
    expect(wrongType.body.error.violations[0]).toMatchObject({ path: "/title", reason: "Not Avro JSON of todo.v1.Todo: expected a string, got 5" });
    const ruled = await produce(station, { producer: "svc", messages: [{ seq: 1, body: { title: "x", done: "yes", note: null, due: 1 } }, { seq: 2, body: good }] });
    expect(ruled.status).toBe(200);
    expect(ruled.body.results[0].refused).toMatchObject({ code: "schema_violation", message: expect.stringContaining("todo.v1.Todo") });
    expect(ruled.body.results[1]).toMatchObject({ seq: 2, offset: 1 });
  });

  it("takes an Avro version after another format only with compatibility none", async () => {
    const name = uniqueSchema("avro");
    await api("PUT", `/v1/schemas/${name}`, { schema: { type: "object" } });
    const refused = await api("PUT", `/v1/schemas/${name}`, { format: "avro", schema: TODO });
    expect(refused.status).toBe(409);
    expect(refused.body.error.breaks[0].rule).toBe("undecidable");
    expect((await api("PUT", `/v1/schemas/${name}`, { format: "avro", schema: TODO, compatibility: "none" })).body).toMatchObject({ version: 2, format: "avro" });
  });
});
