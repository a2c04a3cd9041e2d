// Turns a stored schema version into a body check: compiled once (no eval: @cfworker/json-schema
// interprets the schema), then run on each message body's JSON text.
import { type Schema, Validator } from "@cfworker/json-schema";
import { describeFailure, type ResolvedSchemaRef, type SchemaDraft, type SchemaViolation } from "../../shared/schemas";

export type BodyFailure = Omit<SchemaViolation, "index" | "seq">;

export interface CompiledSchema {
  ref: ResolvedSchemaRef;
  draft: SchemaDraft;
  /** The schema's JSON text, as stored. */
  text: string;
  /** Checks one message body given as JSON text; null when it passes. */
  check(body: string): BodyFailure | null;
}

export function compileSchema(stored: { name: string; version: number; draft: SchemaDraft; text: string }): CompiledSchema {
  // Stop at the first error: a failing body needs one reason, and valid ones cost the same.
  const validator = new Validator(JSON.parse(stored.text) as Schema | boolean, stored.draft, true);
  return {
    ref: { name: stored.name, version: stored.version },
    draft: stored.draft,
    text: stored.text,
    check(body) {
      try {
        const result = validator.validate(JSON.parse(body));
        return result.valid ? null : describeFailure(result.errors);
      } catch (error) {
        // Schemas are checked before they are stored, so this is a body too deep to walk.
        const reason = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : "unknown error";
        return { path: "", keyword: "schema", schemaPath: "", reason: `The body could not be validated: ${reason}` };
      }
    },
  };
}
