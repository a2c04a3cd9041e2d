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
  const result = v.safeParse(schema, input);
  if (result.success) return ok(result.output);
  const issues = result.issues.slice(0, MAX_REPORTED_ISSUES).map(toIssue);
  const first = issues[0];
  const where = first && first.path ? ` at ${first.path}` : "";
  return fail(code, `${first?.message ?? "Invalid input"}${where}`, { issues });
}

function toIssue(issue: v.BaseIssue<unknown>): ValidationIssue {
  const path = (issue.path ?? []).map((item) => String(item.key)).join(".");
  return { path, message: issue.message };
}
