// Decides whether a new schema version may be stored, by its format: a JSON Schema, a protobuf
// message type, or an Avro schema. Answers the text to store and the draft (JSON Schema's only).
import { ok, type Result } from "../../shared/errors";
import { DEFAULT_SCHEMA_DRAFT, type SchemaDraft, SchemaFormat } from "../../shared/schemas";
import { checkAvroSchema } from "./avro";
import { type CheckedSchema, checkSchema } from "./check-schema";
import { checkProtobufSchema } from "./protobuf";

export function checkSchemaVersion(format: SchemaFormat, schema: unknown, draft?: SchemaDraft): Result<CheckedSchema> {
  const other = format === SchemaFormat.Protobuf ? checkProtobufSchema(schema) : format === SchemaFormat.Avro ? checkAvroSchema(schema) : null;
  if (other === null) return checkSchema(schema, draft);
  return other.ok ? ok({ draft: DEFAULT_SCHEMA_DRAFT, text: other.value.text }) : other;
}
