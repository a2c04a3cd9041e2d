// Turns a stored schema version into a body check: compiled once (no eval: @cfworker/json-schema
// interprets the schema; protobuf types are read by reflection; Avro types by our own reader),
// then run on each body's JSON text.
import { type Schema, Validator } from "@cfworker/json-schema";
import { describeFailure, type ResolvedSchemaRef, type SchemaDraft, SchemaFormat, type SchemaViolation } from "../../shared/schemas";
import { avroTypeOf, checkAvroBody } from "./avro";
import { checkProtobufBody, messageOf, type ProtobufSchema } from "./protobuf";

export type BodyFailure = Omit<SchemaViolation, "index" | "seq">;

export interface CompiledSchema {
  ref: ResolvedSchemaRef;
  draft: SchemaDraft;
  /** The schema's JSON text, as stored. */
  text: string;
  format?: SchemaFormat;
  /** Checks one message body given as JSON text; null when it passes. */
  check(body: string): BodyFailure | null;
}

export function compileSchema(stored: { name: string; version: number; format?: SchemaFormat; draft: SchemaDraft; text: string }): CompiledSchema {
  if (stored.format === SchemaFormat.Protobuf) return compileProtobuf(stored);
  if (stored.format === SchemaFormat.Avro) return compileAvro(stored);
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

/** A protobuf version: a body must decode as its message type (`{"$binary": …}` or its JSON mapping). */
function compileProtobuf(stored: { name: string; version: number; draft: SchemaDraft; text: string }): CompiledSchema {
  const desc = messageOf(JSON.parse(stored.text) as ProtobufSchema);
  // Checked before it was stored; a set that no longer links would refuse every body, loudly.
  if (!desc.ok) throw new Error(`Stored protobuf schema ${stored.name} v${stored.version}: ${desc.error.message}`);
  return {
    ref: { name: stored.name, version: stored.version },
    draft: stored.draft,
    text: stored.text,
    format: SchemaFormat.Protobuf,
    check(body) {
      const reason = checkProtobufBody(desc.value, body);
      return reason === null ? null : { path: "", keyword: "protobuf", schemaPath: "", reason };
    },
  };
}

/** An Avro version: a body must be Avro binary of it (`{"$binary": …}`) or a value in Avro's JSON encoding. */
function compileAvro(stored: { name: string; version: number; draft: SchemaDraft; text: string }): CompiledSchema {
  const type = avroTypeOf(stored.text);
  if (!type.ok) throw new Error(`Stored Avro schema ${stored.name} v${stored.version}: ${type.error.message}`);
  return {
    ref: { name: stored.name, version: stored.version },
    draft: stored.draft,
    text: stored.text,
    format: SchemaFormat.Avro,
    check(body) {
      const failure = checkAvroBody(type.value, body);
      return failure === null ? null : { path: failure.path, keyword: "avro", schemaPath: "", reason: failure.reason };
    },
  };
}
