// Avro schema resolution (specification 1.11, "Schema Resolution"): whether data written with one
// schema can be read with another, and if not, where and why. Records match by unqualified name or
// a reader alias of the writer's full name, fields by name or a reader field's alias; a reader
// field the writer lacks needs a default; numbers promote int → long → float → double, string and
// bytes read each other; a writer's enum symbol the reader lacks needs the reader's default; a
// writer union needs every branch readable, a reader union some branch that reads the writer.
// Named types may refer to themselves: a pair of records being compared is assumed readable while
// it is compared (the relation is the greatest one the rules allow), and results are remembered.
import { type AvroDecimal, type AvroField, type AvroType, branchName } from "./types";

/** What kind of difference keeps the reader from reading. */
export type ReadBreakKind =
  /** The reader has a field without a default that the writer's record lacks. */
  | "field_missing"
  /** A value of the writer's type is not one the reader's type reads (kinds, names, sizes, decimals, union branches). */
  | "type"
  /** The writer's enum has symbols the reader's lacks, and the reader's has no default. */
  | "enum_symbol"
  /** The schemas are too large to compare within the work allowed. */
  | "too_complex";

export interface ReadBreak {
  kind: ReadBreakKind;
  /**
   * JSON Pointer into the data in Avro's JSON encoding: record fields by (the reader's) name, `*`
   * for any array item or map value, a union branch by its name (`/note/string`); "" at the root.
   */
  path: string;
  /** The place for people: `field "lines[].qty"`, or "" at the root. */
  place: string;
  /** Why, without the place: `int cannot be read as string`. */
  reason: string;
  /** field_missing: the reader's field. */
  field?: string;
  /** enum_symbol: the enum's full name and the symbols it lacks. */
  enumName?: string;
  symbols?: string[];
}

/** Most pairs of types one comparison visits: schemas are at most 64 KiB, and this keeps the catalog's CPU bounded. */
export const MAX_READ_STEPS = 100_000;

/**
 * Whether every value written with `writer` can be read with `reader`.
 *
 * @example canRead(parseAvroSchema({type: "long"}), parseAvroSchema({type: "int"})) // → true (int promotes to long)
 */
export function canRead(reader: AvroType, writer: AvroType): boolean {
  return new Resolution(null).read(reader, writer, [], false);
}

/** Where data written with `writer` cannot be read with `reader`: at most `limit` places (empty: it can). */
export function readBreaks(reader: AvroType, writer: AvroType, limit = 20): ReadBreak[] {
  const resolution = new Resolution(limit);
  const ok = resolution.read(reader, writer, [], true);
  // Every "no" is named; this only guards that a "no" never comes back as an empty list (read as "yes").
  if (!ok && resolution.found.length === 0) resolution.tooComplex([]);
  return resolution.found;
}

type Step = { field: string } | { items: true } | { values: true } | { branch: string };
type RecordType = Extract<AvroType, { kind: "record" }>;
type EnumType = Extract<AvroType, { kind: "enum" }>;
type UnionType = Extract<AvroType, { kind: "union" }>;
type Named = Extract<AvroType, { name: string }>;

const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  int: ["long", "float", "double"],
  long: ["float", "double"],
  float: ["double"],
  string: ["bytes"],
  bytes: ["string"],
};

class Resolution {
  readonly found: ReadBreak[] = [];
  private steps = 0;
  private tooComplexReported = false;
  /** Record pairs (reader, writer) being compared now: assumed readable while they are. */
  private readonly pending = new Set<string>();
  /** Record pairs decided. A `true` may rest on a pending pair, so it is dropped if that pair fails. */
  private readonly decided = new Map<string, boolean>();
  /** Keys of `true` entries in the order they were decided, to drop them again. */
  private readonly decidedTrue: string[] = [];
  /** Record pairs whose breaks are already in `found`: named once, at the first place met. */
  private readonly reported = new Set<string>();
  private readonly fieldsByName = new Map<RecordType, Map<string, AvroField>>();

  constructor(private readonly limit: number | null) {}

  /** Whether `reader` reads all `writer` writes; with `report`, why not goes into `found`. */
  read(reader: AvroType, writer: AvroType, at: Step[], report: boolean): boolean {
    if (++this.steps > MAX_READ_STEPS) {
      if (report) this.tooComplex(at);
      return false;
    }
    if (writer.kind === "union") {
      // The writer may have written any branch: each must be readable.
      let ok = true;
      for (const branch of writer.branches) {
        ok = this.read(reader, branch, [...at, { branch: branchName(branch) }], report) && ok;
        if (!ok && !report) return false;
      }
      return ok;
    }
    if (reader.kind === "union") return this.readIntoUnion(reader, writer, at, report);
    if (!sameShape(reader, writer)) return this.typeBreak(reader, writer, at, report);
    switch (reader.kind) {
      case "record":
        return this.readRecord(reader, writer as RecordType, at, report);
      case "enum":
        return this.readEnum(reader, writer as EnumType, at, report);
      case "array":
        return this.read(reader.items, (writer as typeof reader).items, [...at, { items: true }], report);
      case "map":
        return this.read(reader.values, (writer as typeof reader).values, [...at, { values: true }], report);
      default:
        return true;
    }
  }

  /** A writer that is not a union, read into a reader union: some branch must read it. */
  private readIntoUnion(reader: UnionType, writer: AvroType, at: Step[], report: boolean): boolean {
    if (reader.branches.some((branch) => this.read(branch, writer, at, false))) return true;
    if (report) {
      // Name why through the branch meant for it (same kind and name, or a promotion), if there is one.
      const near = reader.branches.find((branch) => sameShape(branch, writer));
      const before = this.found.length;
      if (!near || this.read(near, writer, at, true) || this.found.length === before) {
        this.add({ kind: "type", at, reason: `${describe(writer)} cannot be read as ${describe(reader)} (no branch reads it)` });
      }
    }
    return false;
  }

  private readRecord(reader: RecordType, writer: RecordType, at: Step[], report: boolean): boolean {
    const key = `${reader.name}\u0000${writer.name}`;
    if (this.pending.has(key)) return true;
    const known = this.decided.get(key);
    if (known === true || (known === false && (!report || this.reported.has(key)))) return known;
    this.pending.add(key);
    const mark = this.decidedTrue.length;
    let ok = true;
    for (const field of reader.fields) {
      const byName = this.fieldsOf(writer);
      const written = byName.get(field.name) ?? field.aliases.map((alias) => byName.get(alias)).find((found) => found !== undefined);
      const here: Step[] = [...at, { field: field.name }];
      if (written) {
        ok = this.read(field.type, written.type, here, report) && ok;
      } else if (!field.hasDefault) {
        ok = false;
        if (report) this.add({ kind: "field_missing", at: here, reason: `${reader.name} needs field ${field.name}, which the data lacks, and has no default for it`, field: field.name });
      }
      if (!ok && !report) break;
    }
    this.pending.delete(key);
    if (ok) {
      this.decided.set(key, true);
      this.decidedTrue.push(key);
    } else {
      // What was decided readable while this pair was assumed readable may not be.
      for (const dropped of this.decidedTrue.splice(mark)) this.decided.delete(dropped);
      this.decided.set(key, false);
      if (report) this.reported.add(key);
    }
    return ok;
  }

  private fieldsOf(record: RecordType): Map<string, AvroField> {
    let fields = this.fieldsByName.get(record);
    if (!fields) {
      fields = new Map(record.fields.map((field) => [field.name, field]));
      this.fieldsByName.set(record, fields);
    }
    return fields;
  }

  private readEnum(reader: EnumType, writer: EnumType, at: Step[], report: boolean): boolean {
    if (reader.default !== undefined) return true;
    const missing = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
    if (missing.length === 0) return true;
    if (report) {
      const listed = missing.slice(0, 5).map((symbol) => JSON.stringify(symbol)).join(", ") + (missing.length > 5 ? ` and ${missing.length - 5} more` : "");
      this.add({ kind: "enum_symbol", at, reason: `enum ${reader.name} has no symbol ${listed} and no default`, enumName: reader.name, symbols: missing });
    }
    return false;
  }

  private typeBreak(reader: AvroType, writer: AvroType, at: Step[], report: boolean): false {
    if (report) {
      let why = "";
      if ("name" in reader && "name" in writer && reader.kind === writer.kind && !namesMatch(reader, writer)) {
        why = ` (the names differ, and ${reader.name} has no alias ${writer.name})`;
      }
      this.add({ kind: "type", at, reason: `${describe(writer)} cannot be read as ${describe(reader)}${why}` });
    }
    return false;
  }

  tooComplex(at: Step[]): void {
    if (this.tooComplexReported) return;
    this.tooComplexReported = true;
    this.add({ kind: "too_complex", at, reason: `the schemas are too large to compare (more than ${MAX_READ_STEPS} pairs of types)` });
  }

  private add(item: { kind: ReadBreakKind; at: Step[]; reason: string; field?: string; enumName?: string; symbols?: string[] }): void {
    if (this.limit !== null && this.found.length >= this.limit) return;
    const { at, ...rest } = item;
    this.found.push({ ...rest, path: pointerOf(at), place: placeOf(at) });
  }
}

/**
 * Whether the two match at the top (the specification's "match"): the same kind and, for named
 * types, matching names (and for fixed the same size, for decimals the same precision and
 * scale), or a promotion of the writer's primitive to the reader's. What lies inside is compared after.
 */
function sameShape(reader: AvroType, writer: AvroType): boolean {
  if (reader.kind !== writer.kind) return PROMOTIONS[writer.kind]?.includes(reader.kind) ?? false;
  if (reader.kind === "union") return true;
  if ("name" in reader && !namesMatch(reader, writer as Named)) return false;
  if (reader.kind === "fixed" && reader.size !== (writer as Extract<AvroType, { kind: "fixed" }>).size) return false;
  return sameDecimal(decimalOf(reader), decimalOf(writer));
}

/** The same unqualified name, or the writer's full name among the reader's aliases (Avro resolves aliases on the reader's side). */
function namesMatch(reader: Named, writer: Named): boolean {
  return unqualified(reader.name) === unqualified(writer.name) || reader.aliases.includes(writer.name);
}

function unqualified(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

function decimalOf(type: AvroType): AvroDecimal | undefined {
  return type.kind === "bytes" || type.kind === "fixed" ? type.decimal : undefined;
}

/** Two decimals must agree; a decimal and its plain type read each other (the logical type is then ignored). */
function sameDecimal(a: AvroDecimal | undefined, b: AvroDecimal | undefined): boolean {
  return !a || !b || (a.precision === b.precision && a.scale === b.scale);
}

const MAX_DESCRIPTION = 120;

/** A type in a few words: `int`, `record shop.Order`, `fixed shop.Hash (16 bytes)`, `array of string`, `union [null, string]`. */
export function describe(type: AvroType): string {
  const text = describeFully(type);
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}

function describeFully(type: AvroType): string {
  switch (type.kind) {
    case "record":
    case "enum":
      return `${type.kind} ${type.name}`;
    case "fixed":
      return `fixed ${type.name} (${type.size} bytes${type.decimal ? `, decimal(${type.decimal.precision}, ${type.decimal.scale})` : ""})`;
    case "array":
      return `array of ${describeFully(type.items)}`;
    case "map":
      return `map of ${describeFully(type.values)}`;
    case "union":
      return `union [${type.branches.map(describeFully).join(", ")}]`;
    default:
      return type.decimal ? `${type.kind} decimal(${type.decimal.precision}, ${type.decimal.scale})` : type.kind;
  }
}

function pointerOf(at: Step[]): string {
  return at.map((step) => `/${"field" in step ? step.field : "branch" in step ? step.branch : "*"}`).join("");
}

/** `field "lines[].qty"`; union branches are left out (the reason names the types). */
function placeOf(at: Step[]): string {
  let text = "";
  for (const step of at) {
    if ("field" in step) text += text ? `.${step.field}` : step.field;
    else if ("items" in step) text += "[]";
    else if ("values" in step) text += "{}";
  }
  if (!text) return "";
  return "field" in at.find((step) => !("branch" in step))! ? `field "${text}"` : `value "${text}"`;
}
