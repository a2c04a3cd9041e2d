// Reads an Avro schema (its JSON form, Avro 1.11 specification) into the types bodies are checked
// and decoded with: named types and references to them (recursive ones too), namespaces, unions,
// fixed, enums, arrays, maps and primitives. Anything the specification refuses is refused here
// with the place it is at, so a stored version never fails later.
import { MAX_SCHEMA_DEPTH } from "../../../shared/schemas";
import { checkAvroJson } from "./check-json";
import { AVRO_PRIMITIVES, type AvroDecimal, type AvroField, type AvroPrimitive, type AvroType, AvroValueError, branchName } from "./types";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a schema is not a usable Avro schema; `path` is a JSON Pointer into the schema. */
export class AvroSchemaError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(path ? `at ${path}: ${reason}` : reason);
  }
}

/** Parses a schema; throws AvroSchemaError when it is not one. */
export function parseAvroSchema(schema: unknown): AvroType {
  const parser = new Parser();
  const type = parser.parse(schema, "", "", 0);
  parser.checkDefaults();
  checkFinite(type);
  return type;
}

type Named = Extract<AvroType, { name: string }>;

class Parser {
  private readonly named = new Map<string, Named>();
  private readonly defaults: Array<{ type: AvroType; value: unknown; path: string }> = [];

  parse(schema: unknown, namespace: string, path: string, depth: number): AvroType {
    if (depth > MAX_SCHEMA_DEPTH) throw new AvroSchemaError(path, `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
    if (typeof schema === "string") return this.reference(schema, namespace, path);
    if (Array.isArray(schema)) return this.union(schema, namespace, path, depth);
    if (typeof schema !== "object" || schema === null) throw new AvroSchemaError(path, "a type is a name, an object with \"type\", or an array (a union)");
    const node = schema as Record<string, unknown>;
    const kind = node.type;
    if (typeof kind !== "string") {
      // {"type": {...}} and {"type": [...]} wrap a type; only names are kinds.
      if (typeof kind === "object" && kind !== null) return this.parse(kind, namespace, `${path}/type`, depth + 1);
      throw new AvroSchemaError(path, "\"type\" must be a string, an object or an array");
    }
    switch (kind) {
      case "record":
        return this.record(node, namespace, path, depth);
      case "enum":
        return this.enumType(node, namespace, path);
      case "fixed":
        return this.fixed(node, namespace, path);
      case "array":
        if (!("items" in node)) throw new AvroSchemaError(path, "an array needs \"items\"");
        return { kind: "array", items: this.parse(node.items, namespace, `${path}/items`, depth + 1) };
      case "map":
        if (!("values" in node)) throw new AvroSchemaError(path, "a map needs \"values\"");
        return { kind: "map", values: this.parse(node.values, namespace, `${path}/values`, depth + 1) };
      case "error":
        throw new AvroSchemaError(path, "\"error\" types belong to Avro protocols: use \"record\"");
      default: {
        // A primitive with attributes (e.g. a logicalType, checked as its underlying type), or a named type's name.
        const type = this.reference(kind, namespace, `${path}/type`);
        const decimal = type.kind === "bytes" ? decimalOf(node, null) : undefined;
        return decimal ? { kind: "bytes", decimal } : type;
      }
    }
  }

  checkDefaults(): void {
    for (const { type, value, path } of this.defaults) {
      try {
        checkAvroJson(type, value, { defaults: true });
      } catch (error) {
        if (error instanceof AvroValueError) throw new AvroSchemaError(path, `the default is not a value of the field's type (${error.message})`);
        throw error;
      }
    }
  }

  private reference(name: string, namespace: string, path: string): AvroType {
    if ((AVRO_PRIMITIVES as readonly string[]).includes(name)) return { kind: name as AvroPrimitive };
    const found = (!name.includes(".") && namespace ? this.named.get(`${namespace}.${name}`) : undefined) ?? this.named.get(name);
    if (!found) throw new AvroSchemaError(path, `"${name}" is not a primitive type nor a named type defined before it`);
    return found;
  }

  private union(branches: unknown[], namespace: string, path: string, depth: number): AvroType {
    if (branches.length === 0) throw new AvroSchemaError(path, "a union needs at least one branch");
    const parsed: AvroType[] = [];
    const seen = new Set<string>();
    branches.forEach((branch, i) => {
      const type = this.parse(branch, namespace, `${path}/${i}`, depth + 1);
      if (type.kind === "union") throw new AvroSchemaError(`${path}/${i}`, "a union may not hold a union directly");
      const name = branchName(type);
      if (seen.has(name)) throw new AvroSchemaError(`${path}/${i}`, `the union holds ${name} twice`);
      seen.add(name);
      parsed.push(type);
    });
    return { kind: "union", branches: parsed };
  }

  private record(node: Record<string, unknown>, enclosing: string, path: string, depth: number): AvroType {
    const { fullName, namespace, aliases } = this.define(node, enclosing, path);
    if (!Array.isArray(node.fields)) throw new AvroSchemaError(path, "a record needs \"fields\", an array");
    const fields: AvroField[] = [];
    const record: Named = { kind: "record", name: fullName, aliases, fields };
    // Defined before its fields are read, so a field may refer to the record itself.
    this.named.set(fullName, record);
    const names = new Set<string>();
    (node.fields as unknown[]).forEach((field, i) => {
      const at = `${path}/fields/${i}`;
      if (typeof field !== "object" || field === null || Array.isArray(field)) throw new AvroSchemaError(at, "a field is an object with \"name\" and \"type\"");
      const { name, type } = field as Record<string, unknown>;
      if (typeof name !== "string" || !NAME.test(name)) throw new AvroSchemaError(`${at}/name`, "a field name is letters, digits and _, not starting with a digit");
      if (names.has(name)) throw new AvroSchemaError(`${at}/name`, `the record has two fields named ${name}`);
      names.add(name);
      if (!("type" in field)) throw new AvroSchemaError(at, `field ${name} needs a "type"`);
      const fieldType = this.parse(type, namespace, `${at}/type`, depth + 1);
      const hasDefault = "default" in field;
      if (hasDefault) this.defaults.push({ type: fieldType, value: (field as { default: unknown }).default, path: `${at}/default` });
      fields.push({ name, type: fieldType, aliases: fieldAliasesOf(field, at), hasDefault });
    });
    return record;
  }

  private enumType(node: Record<string, unknown>, enclosing: string, path: string): AvroType {
    const { fullName, aliases } = this.define(node, enclosing, path);
    const symbols = node.symbols;
    if (!Array.isArray(symbols)) throw new AvroSchemaError(path, "an enum needs \"symbols\", an array of names");
    symbols.forEach((symbol, i) => {
      if (typeof symbol !== "string" || !NAME.test(symbol)) throw new AvroSchemaError(`${path}/symbols/${i}`, "a symbol is letters, digits and _, not starting with a digit");
      if (symbols.indexOf(symbol) !== i) throw new AvroSchemaError(`${path}/symbols/${i}`, `the enum lists ${symbol} twice`);
    });
    if ("default" in node && !symbols.includes(node.default)) throw new AvroSchemaError(`${path}/default`, "an enum's default must be one of its symbols");
    const type: Named = { kind: "enum", name: fullName, aliases, symbols: symbols as string[] };
    if (typeof node.default === "string") type.default = node.default;
    this.named.set(fullName, type);
    return type;
  }

  private fixed(node: Record<string, unknown>, enclosing: string, path: string): AvroType {
    const { fullName, aliases } = this.define(node, enclosing, path);
    const size = node.size;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw new AvroSchemaError(`${path}/size`, "a fixed needs \"size\", a whole number of bytes");
    const type: Named = { kind: "fixed", name: fullName, aliases, size };
    const decimal = decimalOf(node, size);
    if (decimal) type.decimal = decimal;
    this.named.set(fullName, type);
    return type;
  }

  /** A named type's full name, its aliases' full names, and the namespace its own references resolve in; refuses a second definition. */
  private define(node: Record<string, unknown>, enclosing: string, path: string): { fullName: string; namespace: string; aliases: string[] } {
    const { name, namespace } = node;
    if (typeof name !== "string" || name === "") throw new AvroSchemaError(path, `a ${String(node.type)} needs a "name"`);
    if (namespace !== undefined && namespace !== null && typeof namespace !== "string") throw new AvroSchemaError(`${path}/namespace`, "a namespace is a string");
    const space = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : typeof namespace === "string" ? namespace : enclosing;
    const short = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : name;
    for (const part of space ? [...space.split("."), short] : [short]) {
      if (!NAME.test(part)) throw new AvroSchemaError(`${path}/name`, `"${name}" is not a valid name: dot-separated parts of letters, digits and _`);
    }
    if ((AVRO_PRIMITIVES as readonly string[]).includes(short) && !space) throw new AvroSchemaError(`${path}/name`, `"${name}" is a primitive type's name`);
    const fullName = space ? `${space}.${short}` : short;
    if (this.named.has(fullName)) throw new AvroSchemaError(`${path}/name`, `${fullName} is defined twice`);
    return { fullName, namespace: space, aliases: typeAliasesOf(node, space, path) };
  }
}

/** A named type's aliases as full names: a dotted alias is one already, a plain one is in the type's namespace. */
function typeAliasesOf(node: Record<string, unknown>, space: string, path: string): string[] {
  return aliasList(node, path).map((alias, i) => {
    if (!alias.split(".").every((part) => NAME.test(part))) {
      throw new AvroSchemaError(`${path}/aliases/${i}`, `"${alias}" is not a valid name: dot-separated parts of letters, digits and _`);
    }
    return alias.includes(".") || !space ? alias : `${space}.${alias}`;
  });
}

function fieldAliasesOf(field: object, path: string): string[] {
  return aliasList(field as Record<string, unknown>, path).map((alias, i) => {
    if (!NAME.test(alias)) throw new AvroSchemaError(`${path}/aliases/${i}`, `"${alias}" is not a valid field name: letters, digits and _, not starting with a digit`);
    return alias;
  });
}

function aliasList(node: Record<string, unknown>, path: string): string[] {
  const aliases = node.aliases;
  if (aliases === undefined) return [];
  if (!Array.isArray(aliases) || !aliases.every((alias) => typeof alias === "string")) throw new AvroSchemaError(`${path}/aliases`, "aliases is an array of names");
  return aliases as string[];
}

/**
 * A valid `decimal` logical type's precision and scale, else undefined: the specification has
 * readers ignore an invalid logical type and use the type beneath it.
 */
function decimalOf(node: Record<string, unknown>, fixedSize: number | null): AvroDecimal | undefined {
  if (node.logicalType !== "decimal") return undefined;
  const { precision } = node;
  const scale = node.scale ?? 0;
  if (typeof precision !== "number" || !Number.isSafeInteger(precision) || precision < 1) return undefined;
  if (typeof scale !== "number" || !Number.isSafeInteger(scale) || scale < 0 || scale > precision) return undefined;
  // n bytes of two's complement hold floor(log10(2^(8n-1) - 1)) decimal digits.
  if (fixedSize !== null && (fixedSize === 0 || precision > Math.floor((8 * fixedSize - 1) * Math.log10(2)))) return undefined;
  return { precision, scale };
}

/** Refuses a schema with a record no finite value can have (a record that holds itself with no union, array or map between). */
function checkFinite(root: AvroType): void {
  const records: Array<Extract<AvroType, { kind: "record" }>> = [];
  const seen = new Set<AvroType>();
  const stack = [root];
  while (stack.length > 0) {
    const type = stack.pop()!;
    if (seen.has(type)) continue;
    seen.add(type);
    if (type.kind === "record") {
      records.push(type);
      stack.push(...type.fields.map((field) => field.type));
    } else if (type.kind === "array") stack.push(type.items);
    else if (type.kind === "map") stack.push(type.values);
    else if (type.kind === "union") stack.push(...type.branches);
  }
  // Arrays and maps may be empty, so only records and unions can lack a finite value.
  const finite = new Set<AvroType>();
  const isFinite = (type: AvroType): boolean =>
    type.kind === "record" ? finite.has(type) : type.kind === "union" ? type.branches.some(isFinite) : true;
  for (let changed = true; changed; ) {
    changed = false;
    for (const record of records) {
      if (!finite.has(record) && record.fields.every((field) => isFinite(field.type))) {
        finite.add(record);
        changed = true;
      }
    }
  }
  const endless = records.find((record) => !finite.has(record));
  if (endless) throw new AvroSchemaError("", `record ${endless.name} has no finite value: it holds itself with no union, array or map in between`);
}
