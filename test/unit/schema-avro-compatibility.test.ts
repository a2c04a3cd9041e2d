// Avro schema resolution (worker/schemas/avro/can-read.ts) and the evolution rules built on it
// (avro/compatibility.ts): each rule of the specification's "Schema Resolution" accepted and
// refused, with the break named; recursive schemas and unions; and a cross-check against avsc's
// resolver (the reference JS implementation, run here in Node where its generated code is allowed)
// over random pairs of schemas.
import avro from "avsc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Compatibility } from "../../shared/schemas";
import { canRead, MAX_READ_STEPS, readBreaks } from "../../worker/schemas/avro/can-read";
import { avroCompatibilityBreaks } from "../../worker/schemas/avro/compatibility";
import { parseAvroSchema } from "../../worker/schemas/avro/parse-schema";
import { versionBreaks } from "../../worker/schemas/version-breaks";

const record = (name: string, fields: unknown[], extra: Record<string, unknown> = {}) => ({ type: "record", name, fields, ...extra });
const field = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });
const person = (...fields: unknown[]) => record("Person", [field("name", "string"), ...fields], { namespace: "people.v1" });

interface Case {
  name: string;
  reader: unknown;
  writer: unknown;
  /** The breaks expected as [kind, path, reason pattern] ([] = readable). */
  breaks: Array<[string, string, RegExp]>;
}

const enumE = (symbols: string[], extra: Record<string, unknown> = {}) => ({ type: "enum", name: "Status", symbols, ...extra });

const CASES: Case[] = [
  // Primitives and promotions.
  { name: "the same primitive", reader: { type: "string" }, writer: { type: "string" }, breaks: [] },
  ...(
    [
      ["int", "long"],
      ["int", "float"],
      ["int", "double"],
      ["long", "float"],
      ["long", "double"],
      ["float", "double"],
      ["string", "bytes"],
      ["bytes", "string"],
    ] as const
  ).map(([from, to]): Case => ({ name: `${from} promoted to ${to}`, reader: { type: to }, writer: { type: from }, breaks: [] })),
  ...(
    [
      ["long", "int"],
      ["double", "float"],
      ["float", "long"],
      ["int", "boolean"],
      ["null", "string"],
    ] as const
  ).map(([from, to]): Case => ({ name: `${from} not read as ${to}`, reader: { type: to }, writer: { type: from }, breaks: [["type", "", new RegExp(`^${from} cannot be read as ${to}$`)]] })),
  // Records: fields by name, defaults, ignored writer fields, aliases.
  { name: "a field added with a default", reader: person(field("email", ["null", "string"], { default: null })), writer: person(), breaks: [] },
  { name: "a field added without a default", reader: person(field("email", "string")), writer: person(), breaks: [["field_missing", "/email", /needs field email/]] },
  { name: "a writer field the reader lacks is ignored", reader: person(), writer: person(field("age", "int")), breaks: [] },
  { name: "fields in another order", reader: person(field("a", "int"), field("b", "string")), writer: record("Person", [field("b", "string"), field("a", "int"), field("name", "string")], { namespace: "people.v1" }), breaks: [] },
  { name: "a field's type changed", reader: person(field("age", "string")), writer: person(field("age", "int")), breaks: [["type", "/age", /^int cannot be read as string$/]] },
  { name: "a field's type promoted", reader: person(field("age", "long")), writer: person(field("age", "int")), breaks: [] },
  { name: "a field renamed with an alias", reader: person(field("mail", "string", { aliases: ["email"] })), writer: person(field("email", "string")), breaks: [] },
  { name: "a field renamed without an alias", reader: person(field("mail", "string")), writer: person(field("email", "string")), breaks: [["field_missing", "/mail", /needs field mail/]] },
  { name: "a nested record's field", reader: person(field("home", record("Address", [field("zip", "int")]))), writer: person(field("home", record("Address", [field("zip", "string")]))), breaks: [["type", "/home/zip", /^string cannot be read as int$/]] },
  // Record names: unqualified, or a reader alias of the writer's full name.
  { name: "a record in another namespace", reader: record("Person", [], { namespace: "b" }), writer: record("Person", [], { namespace: "a" }), breaks: [] },
  { name: "a record renamed", reader: record("Human", [], { namespace: "a" }), writer: record("Person", [], { namespace: "a" }), breaks: [["type", "", /record a.Person cannot be read as record a.Human \(the names differ, and a.Human has no alias a.Person\)/]] },
  { name: "a record renamed with an alias (relative to its namespace)", reader: record("Human", [], { namespace: "a", aliases: ["Person"] }), writer: record("Person", [], { namespace: "a" }), breaks: [] },
  { name: "a record renamed with an alias (a full name)", reader: record("Human", [], { namespace: "b", aliases: ["a.Person"] }), writer: record("Person", [], { namespace: "a" }), breaks: [] },
  { name: "an alias in the wrong namespace", reader: record("Human", [], { namespace: "b", aliases: ["Person"] }), writer: record("Person", [], { namespace: "a" }), breaks: [["type", "", /names differ/]] },
  // Enums.
  { name: "an enum grown", reader: enumE(["NEW", "PAID", "SHIPPED"]), writer: enumE(["NEW", "PAID"]), breaks: [] },
  { name: "an enum shrunk", reader: enumE(["NEW"]), writer: enumE(["NEW", "PAID", "SHIPPED"]), breaks: [["enum_symbol", "", /enum Status has no symbol "PAID", "SHIPPED" and no default/]] },
  { name: "an enum shrunk, with a default", reader: enumE(["NEW", "UNKNOWN"], { default: "UNKNOWN" }), writer: enumE(["NEW", "PAID"]), breaks: [] },
  { name: "an enum renamed", reader: { type: "enum", name: "State", symbols: ["NEW"] }, writer: enumE(["NEW"]), breaks: [["type", "", /enum Status cannot be read as enum State/]] },
  // Fixed.
  { name: "the same fixed", reader: { type: "fixed", name: "Hash", size: 16 }, writer: { type: "fixed", name: "Hash", size: 16 }, breaks: [] },
  { name: "a fixed resized", reader: { type: "fixed", name: "Hash", size: 32 }, writer: { type: "fixed", name: "Hash", size: 16 }, breaks: [["type", "", /^fixed Hash \(16 bytes\) cannot be read as fixed Hash \(32 bytes\)$/]] },
  { name: "a fixed renamed", reader: { type: "fixed", name: "Digest", size: 16 }, writer: { type: "fixed", name: "Hash", size: 16 }, breaks: [["type", "", /names differ/]] },
  { name: "fixed and bytes", reader: { type: "bytes" }, writer: { type: "fixed", name: "Hash", size: 16 }, breaks: [["type", "", /fixed Hash \(16 bytes\) cannot be read as bytes/]] },
  // Decimals: scale and precision must agree; a decimal and its plain type read each other.
  { name: "the same decimal", reader: { type: "bytes", logicalType: "decimal", precision: 6, scale: 2 }, writer: { type: "bytes", logicalType: "decimal", precision: 6, scale: 2 }, breaks: [] },
  { name: "a decimal rescaled", reader: { type: "bytes", logicalType: "decimal", precision: 6, scale: 3 }, writer: { type: "bytes", logicalType: "decimal", precision: 6, scale: 2 }, breaks: [["type", "", /bytes decimal\(6, 2\) cannot be read as bytes decimal\(6, 3\)/]] },
  { name: "a decimal read as bytes", reader: { type: "bytes" }, writer: { type: "bytes", logicalType: "decimal", precision: 6, scale: 2 }, breaks: [] },
  // Arrays and maps, by their items and values.
  { name: "array items promoted", reader: { type: "array", items: "long" }, writer: { type: "array", items: "int" }, breaks: [] },
  { name: "array items changed", reader: person(field("tags", { type: "array", items: "int" })), writer: person(field("tags", { type: "array", items: "string" })), breaks: [["type", "/tags/*", /^string cannot be read as int$/]] },
  { name: "map values changed", reader: { type: "map", values: "boolean" }, writer: { type: "map", values: "int" }, breaks: [["type", "/*", /int cannot be read as boolean/]] },
  { name: "an array read as a map", reader: { type: "map", values: "int" }, writer: { type: "array", items: "int" }, breaks: [["type", "", /array of int cannot be read as map of int/]] },
  // Unions: every writer branch readable; some reader branch reads a writer that is not a union.
  { name: "a union grown", reader: person(field("n", ["null", "int", "string"])), writer: person(field("n", ["null", "int"])), breaks: [] },
  { name: "a union's branch promoted", reader: person(field("n", ["null", "long"])), writer: person(field("n", ["null", "int"])), breaks: [] },
  { name: "a union shrunk", reader: person(field("n", ["null", "int"])), writer: person(field("n", ["null", "int", "string"])), breaks: [["type", "/n/string", /^string cannot be read as union \[null, int\] \(no branch reads it\)$/]] },
  { name: "a union read as one of its branches", reader: person(field("n", "int")), writer: person(field("n", ["null", "int"])), breaks: [["type", "/n/null", /^null cannot be read as int$/]] },
  { name: "a type made optional", reader: person(field("n", ["null", "long"], { default: null })), writer: person(field("n", "int")), breaks: [] },
  { name: "a type read into a union without it", reader: person(field("n", ["null", "string"])), writer: person(field("n", "boolean")), breaks: [["type", "/n", /boolean cannot be read as union \[null, string\]/]] },
  {
    name: "a record in a union, named through the branch meant for it",
    reader: person(field("home", ["null", record("Address", [field("zip", "int"), field("city", "string")])])),
    writer: person(field("home", record("Address", [field("zip", "int")]))),
    breaks: [["field_missing", "/home/city", /needs field city/]],
  },
];

const LIST = (value: unknown, extra: unknown[] = []) =>
  record("LongList", [field("value", value), field("next", ["null", "LongList"], { default: null }), ...extra], { namespace: "test.v1" });

describe("Avro schema resolution", () => {
  it.each(CASES)("$name", ({ reader, writer, breaks }) => {
    const found = readBreaks(parseAvroSchema(reader), parseAvroSchema(writer));
    expect(found.map((b) => [b.kind, b.path, b.reason])).toEqual(breaks.map(([kind, path, reason]) => [kind, path, expect.stringMatching(reason)]));
    expect(canRead(parseAvroSchema(reader), parseAvroSchema(writer))).toBe(breaks.length === 0);
  });

  it("names the place for people: fields dotted, [] for array items, {} for map values", () => {
    const order = (qty: string) => record("Order", [field("lines", { type: "array", items: record("Line", [field("qty", qty)]) }), field("attrs", { type: "map", values: qty })]);
    const found = readBreaks(parseAvroSchema(order("int")), parseAvroSchema(order("string")));
    expect(found.map((b) => [b.path, b.place])).toEqual([
      ["/lines/*/qty", 'field "lines[].qty"'],
      ["/attrs/*", 'field "attrs{}"'],
    ]);
  });

  it("compares recursive schemas, and names a break inside the recursion once", () => {
    expect(canRead(parseAvroSchema(LIST("long")), parseAvroSchema(LIST("long")))).toBe(true);
    expect(canRead(parseAvroSchema(LIST("long")), parseAvroSchema(LIST("int")))).toBe(true);
    expect(canRead(parseAvroSchema(LIST("int")), parseAvroSchema(LIST("long")))).toBe(false);
    expect(readBreaks(parseAvroSchema(LIST("int")), parseAvroSchema(LIST("long"))).map((b) => [b.path, b.reason])).toEqual([["/value", "long cannot be read as int"]]);
    // A field added deep in the recursion: a default makes it readable, none does not.
    expect(canRead(parseAvroSchema(LIST("long", [field("tag", "string", { default: "" })])), parseAvroSchema(LIST("long")))).toBe(true);
    expect(readBreaks(parseAvroSchema(LIST("long", [field("tag", "string")])), parseAvroSchema(LIST("long"))).map((b) => [b.kind, b.path])).toEqual([["field_missing", "/tag"]]);
  });

  it("compares mutually recursive records through arrays and maps", () => {
    const tree = (leaf: string) => ({
      type: "record",
      name: "Tree",
      fields: [
        field("children", { type: "array", items: { type: "record", name: "Node", fields: [field("tree", "Tree"), field("leaf", leaf)] } }),
        field("index", { type: "map", values: "Node" }),
      ],
    });
    expect(canRead(parseAvroSchema(tree("double")), parseAvroSchema(tree("float")))).toBe(true);
    expect(readBreaks(parseAvroSchema(tree("float")), parseAvroSchema(tree("double"))).map((b) => b.path)).toEqual(["/children/*/leaf"]);
  });

  it("refuses, as too complex, schemas it cannot compare within its budget", () => {
    const wide = { type: "record", name: "Wide", fields: Array.from({ length: MAX_READ_STEPS + 1 }, (_, i) => field(`f${i}`, "int")) };
    const type = parseAvroSchema(wide);
    expect(canRead(type, type)).toBe(false);
    expect(readBreaks(type, type)).toEqual([expect.objectContaining({ kind: "too_complex", reason: expect.stringMatching(/too large to compare/) })]);
  });

  it("reads aliases and defaults off the schema, and refuses aliases that are not names", () => {
    const type = parseAvroSchema(record("Human", [field("mail", "string", { aliases: ["email"] }), field("age", "int", { default: 0 })], { namespace: "a", aliases: ["Person", "b.Old"] }));
    expect(type).toMatchObject({ name: "a.Human", aliases: ["a.Person", "b.Old"], fields: [{ name: "mail", aliases: ["email"], hasDefault: false }, { name: "age", aliases: [], hasDefault: true }] });
    expect(() => parseAvroSchema(record("R", [], { aliases: ["9x"] }))).toThrow(/aliases\/0.*not a valid name/);
    expect(() => parseAvroSchema(record("R", [field("a", "int", { aliases: ["a.b"] })]))).toThrow(/not a valid field name/);
    expect(() => parseAvroSchema(record("R", [], { aliases: "Old" }))).toThrow(/aliases is an array/);
    // An invalid decimal is ignored (the specification's rule), leaving plain bytes.
    expect(parseAvroSchema({ type: "bytes", logicalType: "decimal", precision: 2, scale: 3 })).toEqual({ kind: "bytes" });
    expect(parseAvroSchema({ type: "fixed", name: "D", size: 2, logicalType: "decimal", precision: 5 })).toEqual({ kind: "fixed", name: "D", aliases: [], size: 2 });
    expect(parseAvroSchema({ type: "fixed", name: "D", size: 2, logicalType: "decimal", precision: 4 })).toMatchObject({ decimal: { precision: 4, scale: 0 } });
  });
});

describe("Avro compatibility rules", () => {
  const V1 = person(field("age", "int"), field("status", enumE(["NEW", "PAID"])));
  const breaksOf = (previous: unknown, next: unknown, compatibility: Compatibility) =>
    avroCompatibilityBreaks(parseAvroSchema(previous), parseAvroSchema(next), compatibility).map((b) => [b.path, b.rule, b.message]);

  it("backward: the new version reads the previous one's data", () => {
    const added = person(field("age", "long"), field("status", enumE(["NEW", "PAID", "SHIPPED"])), field("email", ["null", "string"], { default: null }));
    expect(breaksOf(V1, added, "backward")).toEqual([]);
    expect(breaksOf(V1, person(field("age", "int"), field("status", enumE(["NEW", "PAID"])), field("email", "string")), "backward")).toEqual([
      ["/email", "required_added", `data written with the previous version can't be read with the new one: field "email" added without a default`],
    ]);
    expect(breaksOf(V1, person(field("age", "string"), field("status", enumE(["NEW"]))), "backward")).toEqual([
      ["/age", "type_narrowed", `data written with the previous version can't be read with the new one: field "age": int cannot be read as string`],
      ["/status", "enum_shrunk", `data written with the previous version can't be read with the new one: field "status": symbol "PAID" removed from enum people.v1.Status, which has no default`],
    ]);
  });

  it("forward: the previous version reads the new one's data", () => {
    // Dropping a field the previous version has no default for, widening a type, growing an enum.
    const next = person(field("age", "long"), field("status", enumE(["NEW", "PAID", "SHIPPED"])), field("extra", "string"));
    expect(breaksOf(V1, next, "forward").map(([path, rule]) => [path, rule])).toEqual([
      ["/age", "type_widened"],
      ["/status", "enum_grown"],
    ]);
    expect(breaksOf(V1, person(field("status", enumE(["NEW", "PAID"]))), "forward")).toEqual([
      ["/age", "required_removed", `data written with the new version can't be read with the previous one: field "age" removed, and the previous version has no default for it`],
    ]);
    // What the previous version reads anyway: a narrower type, a shrunk enum, an added field.
    expect(breaksOf(V1, person(field("age", "int"), field("status", enumE(["NEW"])), field("email", "string")), "forward")).toEqual([]);
  });

  it("full: both ways; none: anything", () => {
    const withDefault = person(field("age", "int"), field("status", enumE(["NEW", "PAID"])), field("email", ["null", "string"], { default: null }));
    expect(breaksOf(V1, withDefault, "full")).toEqual([]);
    const promoted = person(field("age", "long"), field("status", enumE(["NEW", "PAID"])));
    expect(breaksOf(V1, promoted, "backward")).toEqual([]);
    expect(breaksOf(V1, promoted, "full").map(([path, rule]) => [path, rule])).toEqual([["/age", "type_widened"]]);
    expect(breaksOf(V1, { type: "string" }, "full").map(([, rule]) => rule)).toEqual(["type_narrowed", "type_widened"]);
    expect(breaksOf(V1, { type: "string" }, "none")).toEqual([]);
  });

  it("is chosen by format: JSON Schema and Avro compared, protobuf and a change of format refused as undecidable", () => {
    const avroText = (schema: unknown) => ({ format: "avro" as const, text: JSON.stringify(schema) });
    expect(versionBreaks(avroText(V1), avroText(person(field("age", "int"), field("status", enumE(["NEW", "PAID"])), field("x", "int"))), "backward")).toMatchObject([
      { path: "/x", rule: "required_added" },
    ]);
    expect(versionBreaks({ format: "json-schema", text: '{"type": "object"}' }, avroText(V1), "backward")).toMatchObject([{ rule: "undecidable" }]);
    expect(versionBreaks({ format: "protobuf", text: "{}" }, { format: "protobuf", text: "{}" }, "forward")).toMatchObject([{ rule: "undecidable" }]);
    expect(versionBreaks({ format: "protobuf", text: "{}" }, { format: "protobuf", text: "{}" }, "none")).toEqual([]);
    expect(versionBreaks({ format: "json-schema", text: '{"type": "object"}' }, { format: "json-schema", text: '{"type": "object", "required": ["a"]}' }, "backward")).toMatchObject([
      { rule: "required_added" },
    ]);
  });
});

describe("Avro schema resolution against avsc", () => {
  // Small pools of names and types, so that random readers and writers often line up.
  const FIELD_NAMES = ["a", "b", "c", "d"];
  const primitive = fc.constantFrom("null", "boolean", "int", "long", "float", "double", "bytes", "string");
  const enumType = fc
    .record({ symbols: fc.subarray(["X", "Y", "Z"], { minLength: 1 }), withDefault: fc.boolean() })
    .map(({ symbols, withDefault }) => ({ type: "enum", name: "E", symbols, ...(withDefault ? { default: symbols[0] } : {}) }));
  const fixedType = fc.record({ name: fc.constantFrom("F", "G"), size: fc.constantFrom(1, 2) }).map(({ name, size }) => ({ type: "fixed", name, size }));
  const leaf = fc.oneof({ weight: 4, arbitrary: primitive }, { weight: 1, arbitrary: enumType }, { weight: 1, arbitrary: fixedType });
  const container = fc.oneof(
    leaf.map((items) => ({ type: "array", items })),
    leaf.map((values) => ({ type: "map", values })),
  );
  const branchKey = (type: unknown) => (typeof type === "string" ? type : (type as { name?: string; type: string }).name ?? (type as { type: string }).type);
  const union = fc.uniqueArray(fc.oneof(leaf, container, fc.constant("SELF")), { minLength: 1, maxLength: 3, selector: branchKey });
  const nested = fc
    .record({ aliases: fc.constantFrom([], ["T"]), name: fc.constantFrom("S", "T"), fields: fc.uniqueArray(fc.record({ name: fc.constantFrom(...FIELD_NAMES), type: leaf }), { minLength: 1, maxLength: 2, selector: (f) => f.name }) })
    .map(({ name, aliases, fields }) => ({ type: "record", name, aliases, fields }));
  const fieldType = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 2, arbitrary: union }, { weight: 1, arbitrary: container }, { weight: 1, arbitrary: nested });
  const fieldOf = fc.record({ name: fc.constantFrom(...FIELD_NAMES), type: fieldType, withDefault: fc.boolean(), aliases: fc.constantFrom([], ["a"], ["b"]) });
  const root = fc.record({
    name: fc.constantFrom("R", "Q"),
    aliases: fc.constantFrom([], ["R"]),
    fields: fc.uniqueArray(fieldOf, { minLength: 0, maxLength: 4, selector: (f) => f.name }),
  });

  interface RootSpec {
    name: string;
    aliases: readonly string[];
    fields: ReadonlyArray<{ name: string; type: unknown; withDefault: boolean; aliases: readonly string[] }>;
  }

  /** A default of the type when one is easy to write (avsc checks a union's default against its first branch). */
  function defaultOf(type: unknown): { value: unknown } | null {
    const first = Array.isArray(type) ? type[0] : type;
    const kind = typeof first === "string" ? first : (first as { type: string }).type;
    const values: Record<string, unknown> = { null: null, boolean: false, int: 0, long: 0, float: 0, double: 0, bytes: "", string: "", array: [], map: {} };
    return kind in values ? { value: values[kind] } : null;
  }

  /** The schema as JSON: SELF names the root, and a named type met again is referred to by name (names are defined once). */
  function schemaOf(spec: RootSpec) {
    const defined = new Set<string>([spec.name]);
    const resolve = (type: unknown): unknown => {
      if (type === "SELF") return spec.name;
      if (Array.isArray(type)) {
        const branches = type.map(resolve);
        // SELF may now repeat a branch name; such a union is not a valid schema, so drop repeats.
        return branches.filter((branch, i) => branches.findIndex((other) => branchKey(other) === branchKey(branch)) === i);
      }
      if (typeof type !== "object" || type === null) return type;
      const node = type as Record<string, unknown>;
      if (typeof node.name === "string") {
        if (defined.has(node.name)) return node.name;
        defined.add(node.name);
      }
      const out: Record<string, unknown> = { ...node };
      if ("items" in node) out.items = resolve(node.items);
      if ("values" in node) out.values = resolve(node.values);
      if (Array.isArray(node.fields)) out.fields = (node.fields as Array<{ name: string; type: unknown }>).map((f) => ({ ...f, type: resolve(f.type) }));
      return out;
    };
    const fields = spec.fields.map((f) => {
      const type = resolve(f.type);
      const fallback = f.withDefault ? defaultOf(type) : null;
      const aliases = f.aliases.filter((alias) => alias !== f.name);
      return { name: f.name, type, ...(aliases.length ? { aliases } : {}), ...(fallback ? { default: fallback.value } : {}) };
    });
    return { type: "record", name: spec.name, ...(spec.aliases.length ? { aliases: spec.aliases } : {}), fields };
  }

  /** Compares our answer with avsc's for one pair, and counts it; pairs the generator made invalid are skipped. */
  function compare(readerSchema: unknown, writerSchema: unknown, outcomes: { readable: number; refused: number }): void {
    let ours: boolean;
    try {
      ours = canRead(parseAvroSchema(readerSchema), parseAvroSchema(writerSchema));
    } catch {
      // Not a valid schema (e.g. a record holding itself through a union of itself alone): not compared.
      return;
    }
    const reader = avro.Type.forSchema(readerSchema as avro.Schema, { wrapUnions: true });
    const writer = avro.Type.forSchema(writerSchema as avro.Schema, { wrapUnions: true });
    let theirs = true;
    try {
      reader.createResolver(writer);
    } catch (error) {
      // avsc refuses a reader field whose name and alias both name writer fields; Avro's Java reader takes the name.
      if (/ambiguous aliasing/.test(String(error))) return;
      theirs = false;
    }
    outcomes[ours ? "readable" : "refused"] += 1;
    expect({ ours, reader: readerSchema, writer: writerSchema }).toEqual({ ours: theirs, reader: readerSchema, writer: writerSchema });
    // A "no" is always named.
    expect(readBreaks(parseAvroSchema(readerSchema), parseAvroSchema(writerSchema)).length > 0).toBe(!ours);
  }

  it("agrees with avsc's resolver on random pairs of types", () => {
    const outcomes = { readable: 0, refused: 0 };
    // Types among which promotions are common, so that "readable" comes up often too.
    const number = fc.constantFrom("null", "int", "long", "float", "double", "string", "bytes");
    const promotable = fc.oneof(number, fc.uniqueArray(number, { minLength: 1, maxLength: 3 }), number.map((items) => ({ type: "array", items })));
    const single = (type: unknown): RootSpec => ({ name: "R", aliases: [], fields: [{ name: "v", type, withDefault: false, aliases: [] }] });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fieldType, fieldType), fc.tuple(promotable, promotable)), ([readerType, writerType]) => compare(schemaOf(single(readerType)), schemaOf(single(writerType)), outcomes)),
      { numRuns: 3000 },
    );
    // Both answers were met often: the comparison says something either way.
    expect(outcomes.readable).toBeGreaterThan(300);
    expect(outcomes.refused).toBeGreaterThan(300);
  });

  it("agrees with avsc's resolver on random records and versions of them", () => {
    // The writer is the reader changed a little (fields dropped, retyped, defaults and fields added), so most pairs are near each other.
    const change = fc.record({ keep: fc.boolean(), retype: fc.option(fieldType, { freq: 3 }), withDefault: fc.boolean() });
    const pair = fc.tuple(root, fc.array(change, { minLength: 4, maxLength: 4 }), fc.uniqueArray(fieldOf, { maxLength: 2, selector: (f) => f.name }), root.map((r) => r.name));
    const outcomes = { readable: 0, refused: 0 };
    fc.assert(
      fc.property(pair, ([reader, changes, added, writerName]) => {
        const kept = reader.fields.flatMap((f, i) => {
          const c = changes[i]!;
          return c.keep || i % 2 === 0 ? [{ ...f, type: c.retype ?? f.type, withDefault: c.withDefault, aliases: [] }] : [];
        });
        const fields = [...kept, ...added.filter((f) => !kept.some((k) => k.name === f.name))];
        compare(schemaOf(reader), schemaOf({ name: writerName, aliases: [], fields }), outcomes);
      }),
      { numRuns: 2000 },
    );
    expect(outcomes.readable).toBeGreaterThan(300);
    expect(outcomes.refused).toBeGreaterThan(300);
  });
});
