// The wire JSON of a handed-out message, written straight from the stored text: bodies and
// headers are kept as JSON text, so a fetch of 100 messages parses and re-encodes nothing.
// Must produce exactly the Message shape of shared/messages.ts (toMessage in ../rows.ts).
import type { MessageRow } from "../log/rows";

/** `epoch`: the handing-out group's, written only once it was moved (above 0). */
/** `partition`: the station object's own (StationRecord.partition). */
export function messageJson(row: MessageRow, partition: number, deliveries: number, epoch = 0): string {
  return (
    `{"partition":${partition},"offset":${row.msg_offset},"producer":${jsonOrNull(row.producer)},"seq":${row.seq ?? "null"},` +
    `"id":${jsonOrNull(row.msg_id)},"key":${jsonOrNull(row.msg_key)},"headers":${row.headers ?? "{}"},` +
    `"body":${row.body},"producedAt":${row.produced_at},"deliveries":${deliveries}` +
    `${row.visible_at === null ? "" : `,"visibleAt":${row.visible_at}`}${epoch > 0 ? `,"epoch":${epoch}` : ""}` +
    `${row.schema_version == null ? "" : `,"schemaVersion":${row.schema_version}`}}`
  );
}

/** `{"messages":[…]}` from message texts, with `acked` when the fetch carried acks. */
export function messagesJson(messages: readonly string[], acked?: number): string {
  return `{"messages":[${messages.join(",")}]${acked === undefined ? "" : `,"acked":${acked}`}}`;
}

function jsonOrNull(value: string | null): string {
  return value === null ? "null" : JSON.stringify(value);
}
