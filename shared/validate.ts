// One way to run a contract schema: a Result with the issues' paths, never a throw.
// Both sides validate with the same schemas (worker on the way in, SDK on the way back).
import * as v from "valibot";
import { type ErrorCode, ErrorCode as Codes, type Result, fail, ok } from "./errors";

export interface ValidationIssue {
  /** Dotted path into the input, e.g. `messages.3.seq`; empty for the root. */
  path: string;
  message: string;
}

/** Most issues reported back for one request: enough to fix it, bounded for hostile input. */
const MAX_REPORTED_ISSUES = 20;

export function validate<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  code: ErrorCode = Codes.InvalidRequest,
): Result<v.InferOutput<S>> {
  // valibot takes an array for an object with no required fields (`[]` as `{}`): refuse it here.
  if (Array.isArray(input) && OBJECT_SCHEMA_TYPES.has(schema.type)) {
    return fail(code, "Expected a JSON object, got an array", { issues: [{ path: "", message: "Expected a JSON object" }] });
  }
  const result = v.safeParse(schema, input);
  if (result.success) return ok(result.output);
  const issues = result.issues.slice(0, MAX_REPORTED_ISSUES).map(toIssue);
  const first = issues[0];
  const where = first && first.path ? ` at ${first.path}` : "";
  return fail(code, `${first?.message ?? "Invalid input"}${where}`, { issues });
}

const OBJECT_SCHEMA_TYPES = new Set(["object", "strict_object", "loose_object", "object_with_rest"]);

function toIssue(issue: v.BaseIssue<unknown>): ValidationIssue {
  const path = (issue.path ?? []).map((item) => String(item.key)).join(".");
  return { path, message: friendlyMessage(issue) };
}

/** valibot says `Invalid key: Expected never but received "x"`; say what it means instead. */
function friendlyMessage(issue: v.BaseIssue<unknown>): string {
  if (!OBJECT_SCHEMA_TYPES.has(issue.type) || issue.kind !== "schema") return issue.message;
  const key = issue.path?.at(-1)?.key;
  if (typeof key !== "string") return issue.message;
  const shown = JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
  if (issue.expected === "never") return `Unknown field ${shown}: this object takes no such field`;
  if (issue.received === "undefined") return `Missing required field ${shown}`;
  return issue.message;
}
