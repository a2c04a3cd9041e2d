// SQL rows of the log (snake_case) and their one conversion to the wire shape.
import type { Message } from "../../../shared/messages";

/** A message's own columns, stored alike by the log and by the dead letters. */
export interface MessageColumns {
  producer: string | null;
  seq: number | null;
  msg_id: string | null;
  msg_key: string | null;
  headers: string | null;
  body: string;
  produced_at: number;
  bytes: number;
}

export interface MessageRow extends MessageColumns {
  msg_offset: number;
  /** When groups and webhooks may first see it (a message produced with `delayMs`), else null. */
  visible_at: number | null;
  /** The version of the station's schema the body was checked against, or null. */
  schema_version: number | null;
  [column: string]: SqlStorageValue;
}

export const MESSAGE_COLUMNS = "msg_offset, producer, seq, msg_id, msg_key, headers, body, produced_at, bytes, visible_at, schema_version";

export function toMessage(row: MessageRow, partition: number, deliveries = 0): Message {
  const message: Message = {
    partition,
    offset: row.msg_offset,
    producer: row.producer,
    seq: row.seq,
    id: row.msg_id,
    key: row.msg_key,
    headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {},
    body: JSON.parse(row.body) as unknown,
    producedAt: row.produced_at,
    deliveries,
  };
  if (row.visible_at !== null) message.visibleAt = row.visible_at;
  if (row.schema_version != null) message.schemaVersion = row.schema_version;
  return message;
}
