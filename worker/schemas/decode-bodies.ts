// `?decode=json` on replay: bodies stored as binary (`{"$binary": …}`) and checked against a
// protobuf or Avro version read back as JSON (the type's JSON mapping, Avro's JSON encoding).
// Done in the Worker, not the station: decoding costs the reader's CPU.
import type { Message } from "../../shared/messages";
import { isBinaryBody } from "../../shared/binary";
import { SchemaFormat } from "../../shared/schemas";
import type { StoredSchema } from "../catalog/schema-store";
import type { Result } from "../../shared/errors";
import { avroBodyAsJson, avroTypeOf } from "./avro";
import { messageOf, type ProtobufSchema, protobufBodyAsJson } from "./protobuf";

type FetchVersion = (version: number) => Promise<Result<StoredSchema>>;
/** Turns one `$binary` body into JSON; throws when it does not decode. */
type Decoder = (body: unknown) => unknown;

/**
 * Decodes each `$binary` body recorded as checked against a protobuf or Avro version of the
 * station's schema. Bodies of JSON Schema versions, unstamped rows and bodies that do not decode
 * (a station whose schema changed name since) are left as stored.
 */
export async function decodeBinaryBodies(messages: Message[], fetchVersion: FetchVersion): Promise<Message[]> {
  const decoders = new Map<number, Promise<Decoder | null>>();
  const decoderOf = (version: number) => {
    let pending = decoders.get(version);
    if (!pending) {
      pending = fetchVersion(version).then((found) => (found.ok ? decoderFor(found.value) : null));
      decoders.set(version, pending);
    }
    return pending;
  };
  return Promise.all(
    messages.map(async (message) => {
      if (message.schemaVersion === undefined || !isBinaryBody(message.body)) return message;
      const decode = await decoderOf(message.schemaVersion);
      if (!decode) return message;
      try {
        return { ...message, body: decode(message.body) };
      } catch {
        return message;
      }
    }),
  );
}

function decoderFor(stored: StoredSchema): Decoder | null {
  if (stored.format === SchemaFormat.Protobuf) {
    const desc = messageOf(JSON.parse(stored.text) as ProtobufSchema);
    return desc.ok ? (body) => protobufBodyAsJson(desc.value, body) : null;
  }
  if (stored.format === SchemaFormat.Avro) {
    const type = avroTypeOf(stored.text);
    return type.ok ? (body) => avroBodyAsJson(type.value, body) : null;
  }
  return null;
}
