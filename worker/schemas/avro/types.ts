// The Avro types a parsed schema is made of (worker/schemas/avro/parse-schema.ts builds them).
// Named types are shared objects, so a recursive schema is a graph with cycles, never a copy.

export type AvroPrimitive = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

export interface AvroField {
  name: string;
  type: AvroType;
  /** Other names it goes by: a reader takes a writer's field of one of these names for it. */
  aliases: string[];
  /** Whether it has a default: a reader fills it in when the writer's record lacks the field. */
  hasDefault: boolean;
}

/** A `decimal` logical type's scale and precision: two decimals read each other only when both agree. */
export interface AvroDecimal {
  precision: number;
  scale: number;
}

/**
 * `aliases` of a named type are full names: a reader of that type takes a writer's type of one of
 * these names for it.
 */
export type AvroType =
  | { kind: AvroPrimitive; decimal?: AvroDecimal }
  | { kind: "record"; name: string; aliases: string[]; fields: AvroField[] }
  | { kind: "enum"; name: string; aliases: string[]; symbols: string[]; default?: string }
  | { kind: "fixed"; name: string; aliases: string[]; size: number; decimal?: AvroDecimal }
  | { kind: "array"; items: AvroType }
  | { kind: "map"; values: AvroType }
  | { kind: "union"; branches: AvroType[] };

export const AVRO_PRIMITIVES: readonly AvroPrimitive[] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/** Deepest nesting a body is walked to: recursive types stay far from the stack's limit. */
export const MAX_AVRO_DEPTH = 100;
/** Most values one body may hold: a block count of zero-byte items (null, empty records) costs no input. */
export const MAX_AVRO_VALUES = 1_000_000;

/**
 * The name a union branch goes by in Avro's JSON encoding (`{"<name>": value}`): the full name
 * of a named type, else the type's own name.
 */
export function branchName(type: AvroType): string {
  return "name" in type ? type.name : type.kind;
}

/** The int64 range, for longs given as decimal strings. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** A body that is not a value of the type: `path` is a JSON Pointer into the body's JSON form. */
export class AvroValueError extends Error {
  constructor(
    readonly path: string,
    /** Why, without the place. */
    readonly reason: string,
  ) {
    super(path ? `at ${path}: ${reason}` : reason);
  }
}
