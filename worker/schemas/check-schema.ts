// Decides whether a schema may be stored: a JSON Schema of a supported draft, within size and
// depth bounds, valid against its draft's meta-schema, and usable by the validator we run
// (every `$ref` resolves inside the schema, no `$dynamicRef`). Runs at the edge, not in the catalog.
import { dereference, type Schema, Validator } from "@cfworker/json-schema";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import {
  describeFailure,
  draftOf,
  MAX_SCHEMA_BYTES,
  MAX_SCHEMA_DEPTH,
  type SchemaDraft,
  supportedSchemaUris,
} from "../../shared/schemas";
import { utf8Length } from "../../shared/utf8";
import { metaSchemaOf } from "./meta-schemas";

export interface CheckedSchema {
  draft: SchemaDraft;
  /** The schema's JSON text, as it will be stored. */
  text: string;
}

/** Meta-schema validators, compiled once per isolate. */
const metaValidators = new Map<SchemaDraft, Validator>();

/** Values every usable schema can be run against without the validator throwing. */
const PROBES: unknown[] = [null, true, 0, 1.5, "", "a", [], [1], {}, { a: 1 }];

/** `draft`: the draft the author named beside the schema, if any; `$schema` must agree with it. */
export function checkSchema(schema: unknown, draftGiven?: SchemaDraft): Result<CheckedSchema> {
  const text = JSON.stringify(schema);
  const bytes = utf8Length(text);
  if (bytes > MAX_SCHEMA_BYTES) {
    return fail(ErrorCode.PayloadTooLarge, `The schema has ${bytes} bytes; at most ${MAX_SCHEMA_BYTES}`, { maxSchemaBytes: MAX_SCHEMA_BYTES });
  }
  if (depthOf(schema) > MAX_SCHEMA_DEPTH) return invalid(`The schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`);

  const declared = draftOf(schema);
  if (declared === null) {
    return invalid("Unsupported $schema: use JSON Schema draft 2020-12 (the default) or 2019-09", {
      supportedSchemas: supportedSchemaUris(),
    });
  }
  const hasSchemaUri = typeof schema === "object" && schema !== null && "$schema" in schema;
  if (draftGiven !== undefined && hasSchemaUri && draftGiven !== declared) {
    return invalid(`The schema's $schema says draft ${declared}, the request says ${draftGiven}`, { draft: draftGiven });
  }
  const draft = draftGiven ?? declared;
  if (hasKeyword(schema, "$dynamicRef")) {
    return invalid("$dynamicRef is not supported: use $ref, or $recursiveRef with draft 2019-09", { keyword: "$dynamicRef" });
  }

  const meta = metaValidatorOf(draft).validate(schema);
  if (!meta.valid) {
    const failure = describeFailure(meta.errors);
    const reason = plainReason(failure.path, failure.keyword, failure.reason);
    const where = failure.path ? ` at ${failure.path}` : "";
    return invalid(`Not a valid JSON Schema (draft ${draft})${where}: ${reason}`, {
      draft,
      issues: [{ path: failure.path, keyword: failure.keyword, message: reason }],
    });
  }

  // The validator annotates the schema it is given, so it gets a private copy.
  const copy = JSON.parse(text) as Schema | boolean;
  let lookup: Record<string, Schema | boolean>;
  try {
    lookup = dereference(copy);
  } catch (error) {
    return invalid(`The schema cannot be compiled: ${messageOf(error)}`, { draft });
  }
  const unresolved = unresolvedRef(lookup);
  if (unresolved !== null) {
    return invalid(`$ref "${unresolved}" does not resolve inside the schema: remote references are not fetched`, {
      draft,
      ref: unresolved.slice(0, 300),
    });
  }
  try {
    const validator = new Validator(JSON.parse(text) as Schema | boolean, draft, true);
    for (const probe of PROBES) validator.validate(probe);
  } catch (error) {
    return invalid(`The schema cannot be evaluated: ${messageOf(error)}`, { draft });
  }
  return ok({ draft, text });
}

function metaValidatorOf(draft: SchemaDraft): Validator {
  let validator = metaValidators.get(draft);
  if (!validator) {
    validator = new Validator(metaSchemaOf(draft), draft, true);
    metaValidators.set(draft, validator);
  }
  return validator;
}

/** The first `$ref` (or `$recursiveRef`) whose target is not in the schema, or null. */
function unresolvedRef(lookup: Record<string, Schema | boolean>): string | null {
  for (const schema of Object.values(lookup)) {
    if (typeof schema !== "object") continue;
    for (const target of [schema.__absolute_ref__, schema.__absolute_recursive_ref__]) {
      if (target !== undefined && lookup[target] === undefined) return schema.$ref ?? schema.$recursiveRef ?? target;
    }
  }
  return null;
}

/** Deepest nesting of objects and arrays, counted without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_SCHEMA_DEPTH) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Whether any object in the schema has `keyword` with a string value (a keyword, not a property name). */
function hasKeyword(value: unknown, keyword: string): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== "object" || item === null) continue;
    if (!Array.isArray(item) && typeof (item as Record<string, unknown>)[keyword] === "string") return true;
    for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}

/** The meta-schema's two least telling reasons, said plainly. */
function plainReason(path: string, keyword: string, reason: string): string {
  if (keyword === "anyOf" && path.endsWith("/type")) {
    return "type must be one of array, boolean, integer, null, number, object, string, or a non-empty array of them";
  }
  if (keyword === "format" && reason.includes('"regex"')) return "not a valid regular expression (ECMAScript, with the u flag)";
  return reason;
}

function invalid(message: string, details: Record<string, unknown> = {}): Result<never> {
  return fail(ErrorCode.InvalidSchema, message, details);
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.slice(0, 300);
}
