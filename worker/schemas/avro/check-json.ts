// Checks a JSON value against an Avro type in Avro's JSON encoding: a union's non-null value is
// wrapped as {"<branch name>": value}, bytes and fixed are strings of code points 0–255, every
// record field is present and no other. Two choices of ours, matching what read-binary.ts emits:
// longs beyond ±(2^53 − 1) are decimal strings, and NaN/±Infinity are the strings
// "NaN"/"Infinity"/"-Infinity" (JSON has no such numbers). Throws AvroValueError.
import { type AvroType, AvroValueError, branchName, INT64_MAX, INT64_MIN, MAX_AVRO_DEPTH, MAX_AVRO_VALUES } from "./types";

const FLOAT_MAX = 3.4028234663852886e38;
const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

export interface CheckOptions {
  /** A field's default: union values are written unwrapped (the specification's rule for defaults). */
  defaults?: boolean;
}

export function checkAvroJson(type: AvroType, value: unknown, options: CheckOptions = {}): void {
  let values = 0;
  const check = (type: AvroType, value: unknown, path: string, depth: number): void => {
    if (depth > MAX_AVRO_DEPTH) throw new AvroValueError(path, `nests deeper than ${MAX_AVRO_DEPTH} levels`);
    if (++values > MAX_AVRO_VALUES) throw new AvroValueError(path, `holds more than ${MAX_AVRO_VALUES} values`);
    const expected = (what: string) => new AvroValueError(path, `expected ${what}, got ${describe(value)}`);
    switch (type.kind) {
      case "null":
        if (value !== null) throw expected("null");
        return;
      case "boolean":
        if (typeof value !== "boolean") throw expected("a boolean");
        return;
      case "int":
        if (typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1) throw expected("an int (32-bit)");
        return;
      case "long":
        if (!isLong(value)) throw expected("a long (an integer, or a decimal string beyond ±2^53)");
        return;
      case "float":
        if (!(typeof value === "number" ? Math.abs(value) <= FLOAT_MAX : NON_FINITE.has(value as string))) throw expected("a float");
        return;
      case "double":
        if (typeof value !== "number" && !NON_FINITE.has(value as string)) throw expected("a double");
        return;
      case "string":
        if (typeof value !== "string") throw expected("a string");
        return;
      case "bytes":
        if (!isByteString(value)) throw expected("bytes (a string of code points 0-255)");
        return;
      case "fixed":
        if (!isByteString(value) || value.length !== type.size) throw expected(`${type.name} (a string of ${type.size} code points 0-255)`);
        return;
      case "enum":
        if (typeof value !== "string" || !type.symbols.includes(value)) throw expected(`one of ${type.symbols.slice(0, 10).join(", ")}${type.symbols.length > 10 ? "…" : ""}`);
        return;
      case "array":
        if (!Array.isArray(value)) throw expected("an array");
        value.forEach((item, i) => check(type.items, item, `${path}/${i}`, depth + 1));
        return;
      case "map":
        if (!isObject(value)) throw expected("a map (an object)");
        for (const [key, item] of Object.entries(value)) check(type.values, item, `${path}/${escape(key)}`, depth + 1);
        return;
      case "record": {
        if (!isObject(value)) throw expected(`${type.name} (an object)`);
        for (const field of type.fields) {
          if (!Object.hasOwn(value, field.name)) throw new AvroValueError(path, `${type.name} needs field ${field.name}`);
          check(field.type, value[field.name], `${path}/${escape(field.name)}`, depth + 1);
        }
        const extra = Object.keys(value).find((key) => !type.fields.some((field) => field.name === key));
        if (extra !== undefined) throw new AvroValueError(path, `${type.name} has no field ${extra}`);
        return;
      }
      case "union": {
        if (options.defaults) {
          // Defaults are written unwrapped; Avro 1.11 checks the first branch, later tools any branch: any is taken.
          const fits = type.branches.some((branch) => {
            try {
              check(branch, value, path, depth + 1);
              return true;
            } catch (error) {
              if (error instanceof AvroValueError) return false;
              throw error;
            }
          });
          if (!fits) throw expected(`a value of one of ${type.branches.map(branchName).join(", ")}`);
          return;
        }
        if (value === null) {
          if (type.branches.some((branch) => branch.kind === "null")) return;
          throw expected(`one of ${type.branches.map(branchName).join(", ")}`);
        }
        const keys = isObject(value) ? Object.keys(value) : [];
        const branch = keys.length === 1 ? type.branches.find((b) => b.kind !== "null" && branchName(b) === keys[0]) : undefined;
        if (!branch) throw expected(`a union value: null or {"<branch>": value}, branch one of ${type.branches.map(branchName).join(", ")}`);
        check(branch, (value as Record<string, unknown>)[keys[0]!], `${path}/${escape(keys[0]!)}`, depth + 1);
        return;
      }
    }
  };
  check(type, value, "", 0);
}

function isLong(value: unknown): boolean {
  if (typeof value === "number") return Number.isSafeInteger(value);
  if (typeof value !== "string" || !/^-?(0|[1-9]\d{0,18})$/.test(value)) return false;
  const n = BigInt(value);
  return n >= INT64_MIN && n <= INT64_MAX;
}

function isByteString(value: unknown): value is string {
  if (typeof value !== "string") return false;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? "a string" : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : typeof value;
}

/** A key as a JSON Pointer token. */
function escape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
