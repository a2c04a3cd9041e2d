// `?decode=json` on replay: bodies stored as protobuf binary (`{"$binary": …}`) read back as
// their type's JSON mapping. Done in the Worker, not the station: decoding costs the reader's CPU.
import type { Message } from "../../shared/messages";
import { isBinaryBody } from "../../shared/binary";
import { SchemaFormat } from "../../shared/schemas";
import type { StoredSchema } from "../catalog/schema-store";
import type { Result } from "../../shared/errors";
import { messageOf, type ProtobufSchema, protobufBodyAsJson } from "./protobuf";

type FetchVersion = (version: number) => Promise<Result<StoredSchema>>;

/**
 * Decodes each `$binary` body recorded as checked against a protobuf version of `schemaName`
 * (the station's schema). Bodies of JSON Schema versions, unstamped rows and bodies that do not
 * decode (a station whose schema changed name since) are left as stored.
 */
export async function decodeProtobufBodies(messages: Message[], fetchVersion: FetchVersion): Promise<Message[]> {
  const versions = new Map<number, Promise<ReturnType<typeof messageOf> | null>>();
  const typeOf = (version: number) => {
    let pending = versions.get(version);
    if (!pending) {
      pending = fetchVersion(version).then((found) =>
        found.ok && found.value.format === SchemaFormat.Protobuf ? messageOf(JSON.parse(found.value.text) as ProtobufSchema) : null,
      );
      versions.set(version, pending);
    }
    return pending;
  };
  return Promise.all(
    messages.map(async (message) => {
      if (message.schemaVersion === undefined || !isBinaryBody(message.body)) return message;
      const desc = await typeOf(message.schemaVersion);
      if (!desc?.ok) return message;
      try {
        return { ...message, body: protobufBodyAsJson(desc.value, message.body) };
      } catch {
        return message;
      }
    }),
  );
}
