// The eval-free Avro reader (worker/schemas/avro/): schemas the specification accepts and refuses,
// binary decoding checked against avsc (the reference JS implementation, run here in Node where
// its generated code is allowed) over random schemas' values, and the edge cases by hand:
// zig-zag varints, longs past 2^53, nested unions, recursive named types, truncated input.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import avro from "avsc";
import { build } from "esbuild";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkAvroJson } from "../../worker/schemas/avro/check-json";
import { AvroSchemaError, parseAvroSchema } from "../../worker/schemas/avro/parse-schema";
import { decodeAvroBinary } from "../../worker/schemas/avro/read-binary";
import { AvroValueError } from "../../worker/schemas/avro/types";

/** Zig-zag varint of a signed 64-bit value, as Avro writes ints and longs. */
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

const bytes = (...parts: Array<number | number[]>) => Uint8Array.from(parts.flat());
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof AvroValueError || error instanceof AvroSchemaError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
};

const LIST = {
  type: "record",
  name: "LongList",
  namespace: "test.v1",
  fields: [
    { name: "value", type: "long" },
    { name: "next", type: ["null", "LongList"] },
  ],
};

describe("Avro schemas", () => {
  it.each([
    ["a record of every primitive", { type: "record", name: "P", fields: ["null", "boolean", "int", "long", "float", "double", "bytes", "string"].map((t) => ({ name: `f_${t}`, type: t })) }],
    ["a recursive named type", LIST],
    ["a logical type on its underlying type", { type: "record", name: "T", fields: [{ name: "at", type: { type: "long", logicalType: "timestamp-millis" } }] }],
    ["references across namespaces", { type: "record", name: "a.A", fields: [{ name: "e", type: { type: "enum", name: "E", symbols: ["X", "Y"] } }, { name: "again", type: "a.E" }, { name: "b", type: { type: "record", name: "B", namespace: "b", fields: [{ name: "e", type: "a.E" }] } }] }],
    ["defaults of each kind", { type: "record", name: "D", fields: [{ name: "u", type: ["null", "int"], default: null }, { name: "s", type: ["string", "null"], default: "x" }, { name: "f", type: { type: "fixed", name: "F", size: 2 }, default: "\u00ff\u0000" }, { name: "m", type: { type: "map", values: "int" }, default: { a: 1 } }] }],
    ["a primitive as an object", { type: "int" }],
  ])("accepts %s", (_, schema) => {
    expect(() => parseAvroSchema(schema)).not.toThrow();
  });

  it.each([
    ["an unknown type name", { type: "record", name: "R", fields: [{ name: "a", type: "Nope" }] }, /Nope/],
    ["a reference before its definition", { type: "record", name: "R", fields: [{ name: "a", type: "E" }, { name: "b", type: { type: "enum", name: "E", symbols: ["A"] } }] }, /"E" is not/],
    ["two fields of one name", { type: "record", name: "R", fields: [{ name: "a", type: "int" }, { name: "a", type: "int" }] }, /two fields named a/],
    ["a name defined twice", { type: "record", name: "R", fields: [{ name: "a", type: { type: "fixed", name: "F", size: 1 } }, { name: "b", type: { type: "fixed", name: "F", size: 2 } }] }, /F is defined twice/],
    ["a union in a union", { type: "record", name: "R", fields: [{ name: "a", type: ["null", ["int", "string"]] }] }, /union may not hold a union/],
    ["a union holding one type twice", { type: "record", name: "R", fields: [{ name: "a", type: ["int", "int"] }] }, /holds int twice/],
    ["a bad name", { type: "record", name: "9lives", fields: [] }, /not a valid name/],
    ["a fixed without a size", { type: "fixed", name: "F" }, /size/],
    ["an enum with a repeated symbol", { type: "enum", name: "E", symbols: ["A", "A"] }, /A twice/],
    ["a default of the wrong type", { type: "record", name: "R", fields: [{ name: "a", type: "int", default: "x" }] }, /default/],
    ["a record that holds itself with nothing between", { type: "record", name: "R", fields: [{ name: "self", type: "R" }] }, /no finite value/],
    ["a record without fields", { type: "record", name: "R" }, /fields/],
  ])("refuses %s", (_, schema, reason) => {
    expect(refusal(() => parseAvroSchema(schema)).message).toMatch(reason);
  });
});

describe("Avro binary", () => {
  it("reads zig-zag ints and longs at their edges, and longs past 2^53 as decimal strings", () => {
    const int = parseAvroSchema({ type: "int" });
    const long = parseAvroSchema({ type: "long" });
    for (const n of [0, -1, 1, -64, 64, 2 ** 31 - 1, -(2 ** 31)]) expect(decodeAvroBinary(int, bytes(varint(n)))).toBe(n);
    expect(bytes(varint(-1))).toEqual(bytes(0x01));
    expect(bytes(varint(1))).toEqual(bytes(0x02));
    expect(refusal(() => decodeAvroBinary(int, bytes(varint(2 ** 31)))).message).toMatch(/overflows 32 bits/);
    expect(refusal(() => decodeAvroBinary(int, bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))).message).toMatch(/past 5 bytes/);
    for (const n of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) expect(decodeAvroBinary(long, bytes(varint(n)))).toBe(n);
    expect(decodeAvroBinary(long, bytes(varint(2n ** 53n)))).toBe("9007199254740992");
    expect(decodeAvroBinary(long, bytes(varint(2n ** 63n - 1n)))).toBe("9223372036854775807");
    expect(decodeAvroBinary(long, bytes(varint(-(2n ** 63n))))).toBe("-9223372036854775808");
    expect(refusal(() => decodeAvroBinary(long, bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))).message).toMatch(/overflows 64 bits/);
    expect(refusal(() => decodeAvroBinary(long, bytes(...new Array(10).fill(0x80), 0x01))).message).toMatch(/past 10 bytes/);
    // The JSON form takes back what binary gives.
    expect(() => checkAvroJson(long, "9223372036854775807")).not.toThrow();
    expect(refusal(() => checkAvroJson(long, "9223372036854775808")).message).toMatch(/long/);
    expect(refusal(() => checkAvroJson(long, 2 ** 53)).message).toMatch(/long/);
  });

  it("reads recursive named types and nested unions", () => {
    const list = parseAvroSchema(LIST);
    // 1 → 2 → null
    const encoded = bytes(varint(1), varint(1), varint(2), varint(0));
    const value = { value: 1, next: { "test.v1.LongList": { value: 2, next: null } } };
    expect(decodeAvroBinary(list, encoded)).toEqual(value);
    expect(() => checkAvroJson(list, value)).not.toThrow();
    const nested = parseAvroSchema({ type: "record", name: "N", fields: [{ name: "a", type: ["null", { type: "array", items: ["string", { type: "map", values: ["null", "int"] }] }] }] });
    const nestedBytes = bytes(varint(1), varint(2), varint(0), varint(1), 0x61, varint(1), varint(1), varint(1), 0x6b, varint(1), varint(-3), varint(0), varint(0));
    expect(decodeAvroBinary(nested, nestedBytes)).toEqual({ a: { array: [{ string: "a" }, { map: { k: { int: -3 } } }] } });
    // A recursion deeper than the walk allows is refused, not a stack overflow.
    const deep = [...Array.from({ length: 200 }, () => [...varint(0), ...varint(1)]).flat(), ...varint(0), ...varint(0)];
    expect(refusal(() => decodeAvroBinary(list, Uint8Array.from(deep))).message).toMatch(/deeper/);
  });

  it("refuses truncated input, left-over bytes, bad union indexes, bad UTF-8 and impossible lengths", () => {
    const list = parseAvroSchema(LIST);
    const encoded = bytes(varint(1), varint(1), varint(2), varint(0));
    for (let end = 0; end < encoded.length; end++) expect(refusal(() => decodeAvroBinary(list, encoded.subarray(0, end))).message).toMatch(/ends in the middle/);
    expect(refusal(() => decodeAvroBinary(list, bytes([...encoded], 0))).message).toMatch(/1 byte left over/);
    expect(refusal(() => decodeAvroBinary(list, bytes(varint(1), varint(2)))).message).toMatch(/no branch 2/);
    expect(refusal(() => decodeAvroBinary(list, bytes(varint(1), varint(-1)))).message).toMatch(/no branch -1/);
    const text = parseAvroSchema({ type: "string" });
    expect(refusal(() => decodeAvroBinary(text, bytes(varint(1), 0xff))).message).toMatch(/UTF-8/);
    expect(refusal(() => decodeAvroBinary(text, bytes(varint(-1)))).message).toMatch(/negative/);
    expect(refusal(() => decodeAvroBinary(text, bytes(varint(2 ** 40), 0x61))).message).toMatch(/past the end/);
    const nulls = parseAvroSchema({ type: "array", items: "null" });
    expect(refusal(() => decodeAvroBinary(nulls, bytes(varint(2n ** 62n), varint(0)))).message).toMatch(/more than/);
    expect(decodeAvroBinary(nulls, bytes(varint(-3), varint(0), varint(0)))).toEqual([null, null, null]);
    const flag = parseAvroSchema({ type: "boolean" });
    expect(refusal(() => decodeAvroBinary(flag, bytes(2))).message).toMatch(/0 or 1/);
  });

  it("keeps __proto__ as a map key, bytes as code points 0-255, and NaN as a string", () => {
    const map = parseAvroSchema({ type: "map", values: "bytes" });
    const decoded = decodeAvroBinary(map, bytes(varint(1), varint(9), ..."__proto__".split("").map((c) => c.charCodeAt(0)), varint(2), 0x00, 0xff, varint(0))) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(JSON.stringify(decoded)).toBe('{"__proto__":"\\u0000ÿ"}');
    const double = parseAvroSchema({ type: "double" });
    const nan = new Uint8Array(8);
    new DataView(nan.buffer).setFloat64(0, NaN, true);
    expect(decodeAvroBinary(double, nan)).toBe("NaN");
    expect(() => checkAvroJson(double, "NaN")).not.toThrow();
  });

  it("decodes what avsc encodes, to the JSON avsc writes, and that JSON passes the JSON check", () => {
    const schemas = [
      LIST,
      {
        type: "record",
        name: "shop.Order",
        fields: [
          { name: "id", type: "string" },
          { name: "qty", type: "int" },
          { name: "total", type: "double" },
          { name: "ratio", type: "float" },
          { name: "paid", type: "boolean" },
          { name: "note", type: ["null", "string"] },
          { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID", "SHIPPED"] } },
          { name: "hash", type: { type: "fixed", name: "Hash", size: 4 } },
          { name: "blob", type: "bytes" },
          { name: "tags", type: { type: "array", items: "string" } },
          { name: "attrs", type: { type: "map", values: ["null", "long", "Status", { type: "array", items: "Hash" }] } },
          { name: "lines", type: { type: "array", items: { type: "record", name: "Line", fields: [{ name: "sku", type: "string" }, { name: "n", type: "long" }] } } },
        ],
      },
    ];
    for (const schema of schemas) {
      const reference = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });
      const ours = parseAvroSchema(schema);
      fc.assert(
        fc.property(fc.integer(), () => {
          const encoded = reference.toBuffer(reference.random());
          // Read back by avsc first: a float is written rounded to 32 bits.
          const expected = JSON.parse(reference.toString(reference.fromBuffer(encoded)));
          const decoded = decodeAvroBinary(ours, encoded);
          expect(decoded).toEqual(expected);
          checkAvroJson(ours, decoded);
        }),
        { numRuns: 200 },
      );
    }
  });

  it("refuses JSON bodies that are not Avro's JSON encoding", () => {
    const order = parseAvroSchema({ type: "record", name: "R", fields: [{ name: "note", type: ["null", "string"] }, { name: "n", type: "int" }] });
    expect(() => checkAvroJson(order, { note: { string: "x" }, n: 1 })).not.toThrow();
    expect(() => checkAvroJson(order, { note: null, n: 1 })).not.toThrow();
    expect(refusal(() => checkAvroJson(order, { note: "x", n: 1 })).message).toMatch(/union value/);
    expect(refusal(() => checkAvroJson(order, { note: null })).message).toMatch(/needs field n/);
    expect(refusal(() => checkAvroJson(order, { note: null, n: 1, extra: 2 })).message).toMatch(/no field extra/);
    const failure = refusal(() => checkAvroJson(order, { note: { string: 5 }, n: 1 })) as AvroValueError;
    expect(failure.path).toBe("/note/string");
  });
});

describe("Avro without code generation", () => {
  /** Runs `script` in a Node whose V8 refuses eval and new Function, as workerd's does. */
  function runDisallowed(script: string) {
    return spawnSync(process.execPath, ["--disallow-code-generation-from-strings", "--input-type=module", "-e", script], { encoding: "utf8" });
  }

  it("checks, decodes and refuses where eval and new Function throw; avsc cannot even read the schema there", async () => {
    const bundled = await build({
      entryPoints: [fileURLToPath(new URL("../../worker/schemas/avro/index.ts", import.meta.url))],
      bundle: true,
      format: "esm",
      platform: "neutral",
      write: false,
    });
    const code = bundled.outputFiles[0]!.text;
    const schema = JSON.stringify(LIST);
    const body = JSON.stringify({ $binary: Buffer.from([2, 2, 4, 0]).toString("base64") });
    const ours = runDisallowed(`${code}
      let generated = "allowed";
      try { new Function("return 1"); } catch (error) { generated = error.message; }
      const type = avroTypeOf(${JSON.stringify(schema)});
      console.log(JSON.stringify({ generated, stored: checkAvroSchema(${schema}).ok, passes: checkAvroBody(type.value, ${JSON.stringify(body)}), fails: checkAvroBody(type.value, '{"value": 1}'), json: avroBodyAsJson(type.value, ${body}) }));`);
    expect(ours.stderr).toBe("");
    expect(JSON.parse(ours.stdout)).toEqual({
      generated: expect.stringMatching(/Code generation from strings disallowed/),
      stored: true,
      passes: null,
      fails: { path: "", reason: expect.stringMatching(/needs field next/) },
      json: { value: 1, next: { "test.v1.LongList": { value: 2, next: null } } },
    });
    const theirs = runDisallowed(`import avro from ${JSON.stringify(fileURLToPath(import.meta.resolve("avsc")))}; avro.Type.forSchema(${schema});`);
    expect(theirs.status).not.toBe(0);
    expect(theirs.stderr).toMatch(/Code generation from strings disallowed/);
  });
});
