// Avro schema versions (`format: "avro"`): the schema is checked before it is stored, bodies are
// checked at the station as Avro binary (`{"$binary": …}`) or Avro's JSON encoding, and binary
// bodies are decoded to JSON for a reader asking for it. Our own reader, not avsc: avsc (and its
// forks avro-js, @avro/types) build every record type with `new Function`, which Workers refuse.
import { decodeBinaryBody, isBinaryBody } from "../../../shared/binary";
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import { MAX_SCHEMA_BYTES } from "../../../shared/schemas";
import { utf8Length } from "../../../shared/utf8";
import { checkAvroJson } from "./check-json";
import { AvroSchemaError, parseAvroSchema } from "./parse-schema";
import { decodeAvroBinary } from "./read-binary";
import { type AvroType, AvroValueError } from "./types";

export type { AvroType } from "./types";

/** Checks an Avro version before it is stored: an object (a record, enum, fixed, array, map or `{"type": "<primitive>"}`) the specification accepts. */
export function checkAvroSchema(schema: unknown): Result<{ text: string }> {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    return fail(ErrorCode.InvalidSchema, 'An Avro schema here is an object: write a primitive as {"type": "int"}, and put a top-level union in a record field');
  }
  const text = JSON.stringify(schema);
  const bytes = utf8Length(text);
  if (bytes > MAX_SCHEMA_BYTES) {
    return fail(ErrorCode.PayloadTooLarge, `The schema has ${bytes} bytes; at most ${MAX_SCHEMA_BYTES}`, { maxSchemaBytes: MAX_SCHEMA_BYTES });
  }
  const type = avroTypeOf(text);
  return type.ok ? ok({ text }) : type;
}

/** The type of a stored Avro version (its JSON text). */
export function avroTypeOf(text: string): Result<AvroType> {
  try {
    return ok(parseAvroSchema(JSON.parse(text)));
  } catch (error) {
    if (!(error instanceof AvroSchemaError)) throw error;
    return fail(ErrorCode.InvalidSchema, `Not a valid Avro schema ${error.message}`, { path: error.path });
  }
}

/** Checks one body (JSON text): null when it passes, else where and why not. */
export function checkAvroBody(type: AvroType, body: string): { path: string; reason: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { path: "", reason: "The body is not JSON" };
  }
  try {
    if (isBinaryBody(value)) {
      const bytes = decodeBinaryBody(value);
      if (!bytes) return { path: "", reason: "$binary is not base64" };
      decodeAvroBinary(type, bytes);
    } else {
      checkAvroJson(type, value);
    }
    return null;
  } catch (error) {
    if (!(error instanceof AvroValueError)) throw error;
    const kind = isBinaryBody(value) ? "Avro binary" : "Avro JSON";
    return { path: error.path, reason: `Not ${kind} of ${nameOf(type)}: ${error.reason}`.slice(0, 300) };
  }
}

/** A body as JSON for a reader asking for it: a `$binary` body decoded to Avro's JSON encoding; JSON bodies as they are. */
export function avroBodyAsJson(type: AvroType, body: unknown): unknown {
  const bytes = decodeBinaryBody(body);
  return bytes ? decodeAvroBinary(type, bytes) : body;
}

function nameOf(type: AvroType): string {
  return "name" in type ? type.name : type.kind;
}
