// Protobuf schema versions (`format: "protobuf"`): a FileDescriptorSet (base64) or a `.proto` text,
// and the message type bodies must be, checked before storing, and bodies checked by decoding them
// with @bufbuild/protobuf's reflection (no code generation, no eval: it runs in Workers).
import { createFileRegistry, type DescMessage, fromBinary, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type FileDescriptorSet, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as v from "valibot";
import { decodeBase64, decodeBinaryBody, encodeBinaryBody, isBinaryBody } from "../../shared/binary";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import { MAX_SCHEMA_BYTES } from "../../shared/schemas";
import { descriptorSetOfProto } from "./proto-text";

const MessageTypeSchema = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, "messageType must be a full message name"));

/**
 * The `schema` of a protobuf version: `{fileDescriptorSet: "<base64>", messageType: "pkg.Name"}`,
 * or `{proto: "<.proto source>", messageType}` (one file; imports only of well-known types).
 */
export const ProtobufSchemaSchema = v.union(
  [
    v.strictObject({
      /** A serialized google.protobuf.FileDescriptorSet (e.g. `buf build -o -` or `protoc --descriptor_set_out --include_imports`), base64. */
      fileDescriptorSet: v.pipe(v.string(), v.minLength(1)),
      /** The fully qualified message type every body must be, e.g. `shop.v1.Order`. */
      messageType: MessageTypeSchema,
    }),
    v.strictObject({
      /** The text of one `.proto` file (proto2 or proto3). */
      proto: v.pipe(v.string(), v.minLength(1)),
      messageType: MessageTypeSchema,
    }),
  ],
  "a protobuf schema is {fileDescriptorSet, messageType} or {proto, messageType}",
);
export type ProtobufSchema = v.InferOutput<typeof ProtobufSchemaSchema>;

/** Checks a protobuf version before it is stored: the set decodes, links, and holds the message type. */
export function checkProtobufSchema(schema: unknown): Result<{ text: string }> {
  const parsed = v.safeParse(ProtobufSchemaSchema, schema);
  if (!parsed.success) {
    return fail(ErrorCode.InvalidSchema, `Not a protobuf schema: ${parsed.issues[0].message}`, {
      issues: parsed.issues.map((issue) => ({ path: issue.path?.map((p) => String(p.key)).join(".") ?? "", message: issue.message })),
    });
  }
  const text = JSON.stringify(parsed.output);
  if (text.length > MAX_SCHEMA_BYTES * 2) return fail(ErrorCode.InvalidSchema, `A protobuf schema holds at most ${MAX_SCHEMA_BYTES * 2} bytes of base64 or text`);
  const message = messageOf(parsed.output);
  return message.ok ? ok({ text }) : message;
}

/** The message type of a stored protobuf version. */
export function messageOf(schema: ProtobufSchema): Result<DescMessage> {
  const set = descriptorSetOf(schema);
  if (!set.ok) return set;
  const what = "proto" in schema ? "The .proto" : "The FileDescriptorSet";
  let desc: DescMessage | undefined;
  try {
    desc = createFileRegistry(set.value).getMessage(schema.messageType);
  } catch (error) {
    return fail(ErrorCode.InvalidSchema, `${what} does not link: ${reasonOf(error)}`);
  }
  if (!desc) return fail(ErrorCode.InvalidSchema, `${what} has no message ${schema.messageType}`);
  return ok(desc);
}

function descriptorSetOf(schema: ProtobufSchema): Result<FileDescriptorSet> {
  if ("proto" in schema) return descriptorSetOfProto(schema.proto);
  const bytes = decodeBase64(schema.fileDescriptorSet);
  if (!bytes) return fail(ErrorCode.InvalidSchema, "fileDescriptorSet is not base64");
  try {
    return ok(fromBinary(FileDescriptorSetSchema, bytes));
  } catch (error) {
    return fail(ErrorCode.InvalidSchema, `fileDescriptorSet is not a usable FileDescriptorSet: ${reasonOf(error)}`);
  }
}

/**
 * Checks one body (JSON text) against the message type: `{"$binary": base64}` must decode as the
 * binary wire format, anything else must be the type's canonical JSON mapping (unknown fields
 * refused). Null when it passes, else why not.
 */
export function checkProtobufBody(desc: DescMessage, body: string): string | null {
  try {
    const value = JSON.parse(body) as unknown;
    if (isBinaryBody(value)) {
      const bytes = decodeBinaryBody(value);
      if (!bytes) return "$binary is not base64";
      fromBinary(desc, bytes, { readUnknownFields: false });
    } else {
      fromJson(desc, value as JsonValue);
    }
    return null;
  } catch (error) {
    return `Not a ${desc.typeName}: ${reasonOf(error)}`;
  }
}

/** A body as JSON for a reader asking for it: a `$binary` body decoded to the type's JSON mapping; JSON bodies as they are. */
export function protobufBodyAsJson(desc: DescMessage, body: unknown): unknown {
  const bytes = decodeBinaryBody(body);
  return bytes ? toJson(desc, fromBinary(desc, bytes)) : body;
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.slice(0, 300);
}
